/**
 * The shared transport suite: what any `Transport` (src/transport/types.ts) must do, as node:test
 * cases. `transportSuite(name, setup)` registers them under `describe(name)`; `setup` runs once
 * (before the cases) and gives a transport over a running cluster, `close` runs once after.
 * Every case uses its own topics and groups (random suffix), so cases share the one cluster.
 *
 * Run on the embedded transport by embedded.test.ts and on the kafka transport (librdkafka over
 * TCP) by kafka.test.ts, both against a Sluice broker from broker-fixture.ts (short group
 * timeouts). Nothing here is timed: waits loop until a condition holds, with a generous
 * deadline that only turns a hang into a failure with a description of what was seen.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { isSluiceError } from '../../src/common/index.js';
import {
  type GroupConsumer,
  type GroupConsumerOptions,
  type IncomingRecord,
  type IsolationLevel,
  murmur2,
  type OutgoingRecord,
  type PartitionReader,
  type Producer,
  partitionFor,
  type TopicPartition,
  type Transport,
} from '../../src/transport/index.js';

export interface TransportFixture {
  transport: Transport;
  close(): Promise<void>;
}

export interface TransportSuiteOptions {
  /** Session timeout given to the suite's consumers (the broker must accept it). Default 3000. */
  sessionTimeoutMs?: number;
  /** Deadline for each wait loop before it fails the case. Default 30 000 ms. */
  waitMs?: number;
  /**
   * The implementation reads a null header value back as an empty Buffer (the
   * @confluentinc/kafka-javascript binding cannot tell them apart when reading; it writes null
   * faithfully). The byte-identity case then expects an empty Buffer for a null header value.
   */
  nullHeaderValueReadsEmpty?: boolean;
}

const CASE_TIMEOUT = 60_000;

const uniq = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const tpKey = (tp: TopicPartition) => `${tp.topic}:${tp.partition}`;
const sortTps = (tps: readonly TopicPartition[]) => tps.map(tpKey).sort();

function rejectsWith(codes: readonly string[]) {
  return (err: unknown) => {
    assert.ok(isSluiceError(err), `expected a SluiceError, got ${String(err)}`);
    assert.ok(codes.includes(err.code), `expected ${codes.join(' or ')}, got ${err.code}: ${err.message}`);
    return true;
  };
}

interface Event {
  kind: 'assigned' | 'revoked' | 'lost';
  partitions: string[];
}

/** A group member with its callbacks recorded. */
class Member {
  readonly events: Event[] = [];
  readonly records: IncomingRecord[] = [];
  readonly consumer: GroupConsumer;

  constructor(
    transport: Transport,
    options: Omit<GroupConsumerOptions, 'listener'>,
    onRevoked?: (partitions: readonly TopicPartition[]) => Promise<void>,
  ) {
    this.consumer = transport.groupConsumer({
      ...options,
      listener: {
        onAssigned: (p) => {
          this.events.push({ kind: 'assigned', partitions: sortTps(p) });
        },
        onRevoked: async (p) => {
          this.events.push({ kind: 'revoked', partitions: sortTps(p) });
          await onRevoked?.(p);
        },
        onLost: (p) => {
          this.events.push({ kind: 'lost', partitions: sortTps(p) });
        },
      },
    });
  }

  assignment(): string[] {
    return sortTps(this.consumer.assignment());
  }

  eventsSince(i: number, kind: Event['kind']): string[] {
    return this.events
      .slice(i)
      .filter((e) => e.kind === kind)
      .flatMap((e) => e.partitions)
      .sort();
  }
}

export function transportSuite(
  name: string,
  setup: () => Promise<TransportFixture>,
  options: TransportSuiteOptions = {},
): void {
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 3000;
  const waitMs = options.waitMs ?? 30_000;

  describe(`transport suite: ${name}`, { timeout: 10 * CASE_TIMEOUT }, () => {
    let fixture: TransportFixture;
    let t: Transport;
    const cleanups: (() => Promise<void>)[] = [];
    /** Registers a client to close at the end of the case (closing twice is allowed). */
    const closeLater = <C extends { close(): Promise<void> }>(c: C): C => {
      cleanups.push(() => c.close().catch(() => undefined));
      return c;
    };
    const runCleanups = async () => {
      while (cleanups.length > 0) await (cleanups.pop() as () => Promise<void>)();
    };

    before(async () => {
      fixture = await setup();
      t = fixture.transport;
    });
    afterEach(runCleanups);
    after(async () => {
      await runCleanups();
      await fixture?.close();
    });

    async function topic(partitions: number, prefix = 'topic'): Promise<string> {
      const name = uniq(prefix);
      await t.admin.ensureTopics([{ topic: name, partitions }]);
      return name;
    }

    async function until<T>(what: string, step: () => Promise<T | undefined>, describe: () => string) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const v = await step();
        if (v !== undefined) return v;
        if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}: ${describe()}`);
      }
    }

    /** Reads with a PartitionReader until it has `count` records. */
    async function readN(reader: PartitionReader, count: number): Promise<IncomingRecord[]> {
      const got: IncomingRecord[] = [];
      return until(
        `${count} records`,
        async () => {
          got.push(...(await reader.poll(count - got.length, 200)));
          return got.length >= count ? got : undefined;
        },
        () => `${got.length} read`,
      );
    }

    /** Reads partitions from the start until the reader's position reaches the latest offset. */
    async function readAll(
      partitions: readonly TopicPartition[],
      isolationLevel: IsolationLevel,
    ): Promise<IncomingRecord[]> {
      const reader = closeLater(t.partitionReader({ isolationLevel }));
      await reader.assign(partitions.map((p) => ({ ...p, offset: 0 })));
      const ends = await t.admin.listOffsets(partitions, 'latest', isolationLevel);
      const got: IncomingRecord[] = [];
      const caughtUp = () => ends.every((e) => reader.position(e) >= e.offset);
      await until(
        'the reader to catch up',
        async () => {
          if (caughtUp()) return true;
          got.push(...(await reader.poll(500, 100)));
          return undefined;
        },
        () => `positions ${ends.map((e) => `${tpKey(e)}=${reader.position(e)}/${e.offset}`).join(' ')}`,
      );
      await reader.close();
      return got;
    }

    /** Polls every member concurrently (as separate application instances would) until `done`. */
    async function pollUntil(members: readonly Member[], what: string, done: () => boolean): Promise<void> {
      await until(
        what,
        async () => {
          if (done()) return true;
          const batches = await Promise.all(members.map((m) => m.consumer.poll(100, 100)));
          batches.forEach((b, i) => {
            (members[i] as Member).records.push(...b);
          });
          return undefined;
        },
        () => members.map((m, i) => `member ${i}: [${m.assignment().join(' ')}]`).join('; '),
      );
    }

    const allOf = (topic: string, n: number): TopicPartition[] =>
      Array.from({ length: n }, (_, partition) => ({ topic, partition }));

    /** Every partition assigned exactly once and the counts differ by at most one. */
    function balanced(members: readonly Member[], topic: string, n: number): boolean {
      const owned = members.flatMap((m) => m.assignment());
      const counts = members.map((m) => m.assignment().length);
      return (
        owned.length === n &&
        new Set(owned).size === n &&
        sortTps(allOf(topic, n)).every((k) => owned.includes(k)) &&
        Math.max(...counts) - Math.min(...counts) <= 1
      );
    }

    const consumerOptions = (groupId: string, topics: string[]) => ({
      groupId,
      topics,
      sessionTimeoutMs,
      clientId: `suite-${name}`,
    });

    // ---- admin ----

    it('ensureTopics creates once, is idempotent, refuses a partition mismatch; deleteTopics removes', {
      timeout: CASE_TIMEOUT,
    }, async () => {
      const a = uniq('admin');
      const missing = uniq('missing');
      await t.admin.ensureTopics([{ topic: a, partitions: 3, config: { 'cleanup.policy': 'compact' } }]);
      await t.admin.ensureTopics([{ topic: a, partitions: 3 }]);
      assert.deepEqual(await t.admin.describeTopics([a, missing]), new Map([[a, 3]]));
      await assert.rejects(t.admin.ensureTopics([{ topic: a, partitions: 4 }]), (err) => {
        rejectsWith(['INVALID_CONFIG'])(err);
        assert.match((err as Error).message, new RegExp(a));
        return true;
      });
      assert.deepEqual(await t.admin.describeTopics([a]), new Map([[a, 3]]));
      await t.admin.deleteTopics([a]);
      assert.deepEqual(await t.admin.describeTopics([a]), new Map());
      await t.admin.deleteTopics([a, missing]); // already gone: nothing to do
    });

    // ---- produce and read ----

    it('produces and reads back byte-identical keys, values, headers and timestamps', {
      timeout: CASE_TIMEOUT,
    }, async () => {
      const tp = await topic(2, 'bytes');
      const producer = closeLater(t.producer());
      await producer.connect();
      const base = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
      const sent: OutgoingRecord[] = [
        { key: Buffer.from('k0'), value: Buffer.from('v0'), timestamp: base },
        { key: null, value: Buffer.from([0, 1, 2, 255]), timestamp: base + 1 },
        { key: Buffer.from('tomb'), value: null, timestamp: base - 86_400_000 },
        { key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: base + 2 },
        {
          key: Buffer.from('h'),
          value: Buffer.from('with headers'),
          timestamp: base + 3,
          headers: [
            { key: 'trace', value: Buffer.from('abc') },
            { key: 'empty', value: Buffer.alloc(0) },
            { key: 'null', value: null },
            { key: 'trace', value: Buffer.from('again') },
            { key: 'ünïcödé', value: Buffer.from([0xff, 0x00]) },
          ],
        },
        { key: Buffer.from('big'), value: Buffer.alloc(200_000, 7), timestamp: base + 4 },
      ];
      await producer.send(tp, 1, sent.slice(0, 3));
      await producer.send(tp, 1, sent.slice(3));
      const reader = closeLater(t.partitionReader());
      await reader.assign([{ topic: tp, partition: 1, offset: 0 }]);
      const got = await readN(reader, sent.length);
      assert.equal(got.length, sent.length);
      got.forEach((r, i) => {
        const s = sent[i] as OutgoingRecord;
        assert.equal(r.topic, tp);
        assert.equal(r.partition, 1);
        assert.equal(r.offset, i);
        assert.deepEqual(r.key, s.key, `key of record ${i}`);
        assert.deepEqual(r.value, s.value, `value of record ${i}`);
        assert.equal(r.timestamp, s.timestamp, `timestamp of record ${i}`);
        assert.deepEqual(
          r.headers.map((h) => [h.key, h.value]),
          (s.headers ?? []).map((h) => [
            h.key,
            h.value === null && options.nullHeaderValueReadsEmpty === true ? Buffer.alloc(0) : h.value,
          ]),
          `headers of record ${i}`,
        );
      });
      assert.equal(reader.position({ topic: tp, partition: 1 }), sent.length);
      // Reading again from the middle gives the same bytes.
      await reader.assign([{ topic: tp, partition: 1, offset: 4 }]);
      const again = await readN(reader, 2);
      assert.deepEqual(
        again.map((r) => [r.offset, r.key, r.value]),
        got.slice(4).map((r) => [r.offset, r.key, r.value]),
      );
      // Nothing went to the other partition.
      assert.deepEqual(await t.admin.listOffsets([{ topic: tp, partition: 0 }], 'latest'), [
        { topic: tp, partition: 0, offset: 0 },
      ]);
    });

    it('compressed batches (gzip, snappy, lz4, zstd) read back identical', {
      timeout: CASE_TIMEOUT,
    }, async () => {
      const codecs = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
      const tp = await topic(codecs.length, 'codec');
      const records = (codec: string) =>
        Array.from({ length: 20 }, (_, i) => ({
          key: Buffer.from(`${codec}-${i}`),
          value: Buffer.from(`${codec} value ${i} `.repeat(50)),
          headers: [{ key: 'codec', value: Buffer.from(codec) }],
        }));
      await Promise.all(
        codecs.map(async (compression, partition) => {
          const producer = closeLater(t.producer({ compression }));
          await producer.connect();
          await producer.send(tp, partition, records(compression));
          await producer.flush();
        }),
      );
      const got = await readAll(allOf(tp, codecs.length), 'read_uncommitted');
      for (const [partition, codec] of codecs.entries()) {
        const mine = got.filter((r) => r.partition === partition);
        assert.deepEqual(
          mine.map((r) => [r.key, r.value, r.headers[0]?.value]),
          records(codec).map((r) => [r.key, r.value, Buffer.from(codec)]),
          codec,
        );
      }
    });

    it('listOffsets: earliest is the log start, latest the end (read_committed: the last stable offset)', {
      timeout: CASE_TIMEOUT,
    }, async () => {
      const tp = await topic(2, 'offsets');
      const producer = closeLater(t.producer());
      await producer.connect();
      const recs = (n: number, p: string) =>
        Array.from({ length: n }, (_, i) => ({ key: null, value: Buffer.from(`${p}${i}`) }));
      await producer.send(tp, 0, recs(5, 'a'));
      await producer.send(tp, 1, recs(3, 'b'));
      const parts = allOf(tp, 2);
      assert.deepEqual(await t.admin.listOffsets(parts, 'earliest'), [
        { topic: tp, partition: 0, offset: 0 },
        { topic: tp, partition: 1, offset: 0 },
      ]);
      assert.deepEqual(await t.admin.listOffsets(parts, 'latest'), [
        { topic: tp, partition: 0, offset: 5 },
        { topic: tp, partition: 1, offset: 3 },
      ]);
      // An open transaction holds the last stable offset at its first record.
      const txp = closeLater(t.producer({ transactionalId: uniq('lso') }));
      await txp.connect();
      txp.beginTransaction();
      await txp.send(tp, 0, recs(2, 't'));
      assert.deepEqual(
        await t.admin.listOffsets([{ topic: tp, partition: 0 }], 'latest', 'read_uncommitted'),
        [{ topic: tp, partition: 0, offset: 7 }],
      );
      assert.deepEqual(await t.admin.listOffsets([{ topic: tp, partition: 0 }], 'latest', 'read_committed'), [
        { topic: tp, partition: 0, offset: 5 },
      ]);
      await txp.commitTransaction();
      // The commit marker takes one offset.
      assert.deepEqual(await t.admin.listOffsets([{ topic: tp, partition: 0 }], 'latest'), [
        { topic: tp, partition: 0, offset: 8 },
      ]);
    });

    it('deleteRecords moves the log start: earliest = k, reads from the start get offsets k.., past the end refused', {
      timeout: CASE_TIMEOUT,
    }, async () => {
      const tp = await topic(2, 'delrec');
      const producer = closeLater(t.producer());
      await producer.connect();
      const n = 10;
      const k = 6;
      await producer.send(
        tp,
        0,
        Array.from({ length: n }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) })),
      );
      await producer.send(tp, 1, [{ key: null, value: Buffer.from('other') }]);
      const p0 = { topic: tp, partition: 0 };
      const p1 = { topic: tp, partition: 1 };
      // Answers the new log start offsets, in the order asked.
      assert.deepEqual(
        await t.admin.deleteRecords([
          { ...p1, offset: 0 },
          { ...p0, offset: k },
        ]),
        [
          { ...p1, offset: 0 },
          { ...p0, offset: k },
        ],
      );
      assert.deepEqual(await t.admin.listOffsets([p0, p1], 'earliest'), [
        { ...p0, offset: k },
        { ...p1, offset: 0 },
      ]);
      assert.deepEqual(await t.admin.listOffsets([p0], 'latest'), [{ ...p0, offset: n }]);
      // A reader from the (new) start reads exactly the records from k on, byte for byte.
      const reader = closeLater(t.partitionReader());
      await reader.assign([{ ...p0, offset: k }]);
      const got = await readN(reader, n - k);
      assert.deepEqual(
        got.map((r) => [r.offset, String(r.key), String(r.value)]),
        Array.from({ length: n - k }, (_, i) => [k + i, `k${k + i}`, `v${k + i}`]),
      );
      // Told to read below the log start (records deleted since), a reader restarts at the log
      // start, as a librdkafka consumer with auto.offset.reset=earliest: the same on both.
      const below = closeLater(t.partitionReader());
      await below.assign([{ ...p0, offset: 2 }]);
      assert.deepEqual(
        (await readN(below, n - k)).map((r) => r.offset),
        Array.from({ length: n - k }, (_, i) => k + i),
      );
      assert.equal(below.position(p0), n);
      // A group member without a committed offset starts at the log start (autoOffsetReset earliest).
      const member = new Member(t, {
        ...consumerOptions(uniq('delrec-group'), [tp]),
        autoOffsetReset: 'earliest',
      });
      closeLater(member.consumer);
      await member.consumer.start();
      await pollUntil([member], 'the records of both partitions', () => member.records.length >= n - k + 1);
      assert.deepEqual(
        member.records.filter((r) => r.partition === 0).map((r) => r.offset),
        Array.from({ length: n - k }, (_, i) => k + i),
      );
      // Below the log start: nothing changes (Kafka's answer is the current start, no error).
      assert.deepEqual(await t.admin.deleteRecords([{ ...p0, offset: 2 }]), [{ ...p0, offset: k }]);
      // Up to the high watermark empties the partition; beyond it is refused, nothing moves.
      assert.deepEqual(await t.admin.deleteRecords([{ ...p1, offset: 1 }]), [{ ...p1, offset: 1 }]);
      await assert.rejects(
        t.admin.deleteRecords([{ ...p0, offset: n + 1 }]),
        rejectsWith(['OFFSET_OUT_OF_RANGE']),
      );
      await assert.rejects(t.admin.deleteRecords([{ ...p0, offset: -1 }]), rejectsWith(['INVALID_ARGUMENT']));
      assert.deepEqual(await t.admin.listOffsets([p0, p1], 'earliest'), [
        { ...p0, offset: k },
        { ...p1, offset: 1 },
      ]);
      await assert.rejects(
        t.admin.deleteRecords([{ topic: uniq('missing'), partition: 0, offset: 0 }]),
        rejectsWith(['NOT_FOUND']),
      );
      assert.deepEqual(await t.admin.deleteRecords([]), []);
      // A compact-only topic's records go by key, never by offset (Kafka: POLICY_VIOLATION).
      const compacted = uniq('compacted');
      await t.admin.ensureTopics([
        { topic: compacted, partitions: 1, config: { 'cleanup.policy': 'compact' } },
      ]);
      await assert.rejects(
        t.admin.deleteRecords([{ topic: compacted, partition: 0, offset: 0 }]),
        rejectsWith(['INVALID_CONFIG']),
      );
    });

    it("keys placed with partitionFor land where Kafka's murmur2 partitioner puts them", {
      timeout: CASE_TIMEOUT,
    }, async () => {
      // Apache Kafka's UtilsTest.testMurmur2 vectors.
      assert.equal(murmur2(Buffer.from('21')), -973932308);
      assert.equal(murmur2(Buffer.from('foobar')), -790332482);
      assert.equal(murmur2(Buffer.from('a-little-bit-long-string')), -985981536);
      assert.equal(murmur2(Buffer.from('a-little-bit-longer-string')), -1486304829);
      assert.equal(murmur2(Buffer.from('abc')), 479470107);
      const n = 5;
      const tp = await topic(n, 'murmur');
      const producer = closeLater(t.producer());
      await producer.connect();
      const keys = Array.from({ length: 40 }, (_, i) => Buffer.from(`user-${i}`));
      const byPartition = new Map<number, OutgoingRecord[]>();
      for (const key of keys) {
        const p = partitionFor(key, n);
        assert.equal(p, (murmur2(key) & 0x7fffffff) % n);
        byPartition.set(p, [...(byPartition.get(p) ?? []), { key, value: key }]);
      }
      assert.ok(byPartition.size > 1, 'the keys spread over several partitions');
      await Promise.all([...byPartition].map(([p, records]) => producer.send(tp, p, records)));
      const got = await readAll(allOf(tp, n), 'read_uncommitted');
      assert.equal(got.length, keys.length);
      for (const r of got) assert.equal(r.partition, partitionFor(r.key as Buffer, n), String(r.key));
    });

    it('idempotent producer: concurrent sends to one partition land once each, in send order', {
      timeout: CASE_TIMEOUT,
    }, async () => {
      const tp = await topic(1, 'idem');
      const producer = closeLater(t.producer({ lingerMs: 2 }));
      await producer.connect();
      const sends: Promise<void>[] = [];
      for (let i = 0; i < 50; i++) {
        sends.push(
          producer.send(tp, 0, [
            { key: null, value: Buffer.from(`${i}.a`) },
            { key: null, value: Buffer.from(`${i}.b`) },
          ]),
        );
      }
      await producer.flush();
      await Promise.all(sends);
      const got = await readAll([{ topic: tp, partition: 0 }], 'read_uncommitted');
      assert.deepEqual(
        got.map((r) => r.value?.toString()),
        Array.from({ length: 50 }, (_, i) => [`${i}.a`, `${i}.b`]).flat(),
      );
      assert.deepEqual(
        got.map((r) => r.offset),
        got.map((_, i) => i),
      );
      await producer.close();
      await assert.rejects(producer.send(tp, 0, [{ key: null, value: null }]), rejectsWith(['CLOSED']));
    });

    // ---- transactions ----

    it('transactions: commit is visible to read_committed, abort is not (read_uncommitted sees both)', {
      timeout: CASE_TIMEOUT,
    }, async () => {
      const tp = await topic(2, 'txn');
      const producer = closeLater(t.producer({ transactionalId: uniq('txn') }));
      await producer.connect();
      const v = (s: string) => ({ key: Buffer.from(s), value: Buffer.from(s) });
      producer.beginTransaction();
      void producer.send(tp, 0, [v('abort-0'), v('abort-1')]);
      void producer.send(tp, 1, [v('abort-2')]);
      await producer.abortTransaction();
      producer.beginTransaction();
      void producer.send(tp, 0, [v('commit-0')]);
      void producer.send(tp, 1, [v('commit-1'), v('commit-2')]);
      await producer.commitTransaction();
      const values = (rs: IncomingRecord[]) => rs.map((r) => r.value?.toString()).sort();
      assert.deepEqual(values(await readAll(allOf(tp, 2), 'read_committed')), [
        'commit-0',
        'commit-1',
        'commit-2',
      ]);
      assert.deepEqual(values(await readAll(allOf(tp, 2), 'read_uncommitted')), [
        'abort-0',
        'abort-1',
        'abort-2',
        'commit-0',
        'commit-1',
        'commit-2',
      ]);
      // Misuse is INVALID_TXN_STATE.
      assert.throws(
        () => {
          producer.beginTransaction();
          producer.beginTransaction();
        },
        rejectsWith(['INVALID_TXN_STATE']),
      );
      await producer.abortTransaction();
      await assert.rejects(producer.commitTransaction(), rejectsWith(['INVALID_TXN_STATE']));
    });

    it('sendOffsets in a transaction: committedOffsets shows them after commit, not after abort', {
      timeout: CASE_TIMEOUT,
    }, async () => {
      const input = await topic(1, 'so-in');
      const out = await topic(1, 'so-out');
      const groupId = uniq('so-group');
      const m = new Member(t, consumerOptions(groupId, [input]));
      closeLater(m.consumer);
      await m.consumer.start();
      await pollUntil([m], 'the assignment', () => m.assignment().length === 1);
      const producer = closeLater(t.producer({ transactionalId: uniq('so') }));
      await producer.connect();
      const parts = [{ topic: input, partition: 0 }];
      producer.beginTransaction();
      await producer.send(out, 0, [{ key: null, value: Buffer.from('x') }]);
      await producer.sendOffsets(m.consumer, [{ topic: input, partition: 0, offset: 3 }]);
      await producer.abortTransaction();
      assert.deepEqual(await t.admin.committedOffsets(groupId, parts), [
        { topic: input, partition: 0, offset: null },
      ]);
      producer.beginTransaction();
      await producer.send(out, 0, [{ key: null, value: Buffer.from('y') }]);
      await producer.sendOffsets(m.consumer, [{ topic: input, partition: 0, offset: 7 }]);
      // Asked while the transaction is undecided, committedOffsets waits for the decision
      // (UNSTABLE_OFFSET_COMMIT is retried): never null, never an error.
      const asked = t.admin.committedOffsets(groupId, parts);
      await producer.commitTransaction();
      assert.deepEqual(await asked, [{ topic: input, partition: 0, offset: 7 }]);
      assert.deepEqual(await t.admin.committedOffsets(groupId, parts), [
        { topic: input, partition: 0, offset: 7 },
      ]);
    });

    it('a second producer with the same transactional id fences the first (PRODUCER_FENCED)', {
      timeout: CASE_TIMEOUT,
    }, async () => {
      const tp = await topic(1, 'fence');
      const txid = uniq('fence');
      const first = closeLater(t.producer({ transactionalId: txid }));
      await first.connect();
      first.beginTransaction();
      await first.send(tp, 0, [{ key: null, value: Buffer.from('zombie') }]);
      const second = closeLater(t.producer({ transactionalId: txid }));
      await second.connect();
      await assert.rejects(first.commitTransaction(), rejectsWith(['PRODUCER_FENCED']));
      second.beginTransaction();
      await second.send(tp, 0, [{ key: null, value: Buffer.from('live') }]);
      await second.commitTransaction();
      const got = await readAll([{ topic: tp, partition: 0 }], 'read_committed');
      assert.deepEqual(
        got.map((r) => r.value?.toString()),
        ['live'],
      );
    });

    it('an abandoned transaction is aborted by the broker after its timeout', {
      timeout: CASE_TIMEOUT,
    }, async () => {
      const tp = await topic(1, 'abandon');
      const producer = closeLater(
        t.producer({ transactionalId: uniq('abandon'), transactionTimeoutMs: 1000 }),
      );
      await producer.connect();
      producer.beginTransaction();
      await producer.send(tp, 0, [{ key: null, value: Buffer.from('never') }]);
      const p0 = [{ topic: tp, partition: 0 }];
      // The last stable offset moves past the transaction once the broker aborts it.
      await until(
        'the abort',
        async () => {
          const [lso] = await t.admin.listOffsets(p0, 'latest', 'read_committed');
          if ((lso?.offset ?? 0) >= 2) return true;
          await new Promise((r) => setTimeout(r, 100));
          return undefined;
        },
        () => 'the last stable offset stayed at 0',
      );
      assert.deepEqual(await readAll(p0, 'read_committed'), []);
      assert.deepEqual(
        (await readAll(p0, 'read_uncommitted')).map((r) => r.value?.toString()),
        ['never'],
      );
      await assert.rejects(
        producer.commitTransaction(),
        rejectsWith(['PRODUCER_FENCED', 'INVALID_TXN_STATE']),
      );
    });

    // ---- groups ----

    it('group: two members split the partitions; a third joins cooperatively; a leaver hands over', {
      timeout: CASE_TIMEOUT,
    }, async () => {
      const n = 4;
      const tp = await topic(n, 'group');
      const groupId = uniq('group');
      const a = new Member(t, consumerOptions(groupId, [tp]));
      const b = new Member(t, consumerOptions(groupId, [tp]));
      closeLater(a.consumer);
      closeLater(b.consumer);
      await Promise.all([a.consumer.start(), b.consumer.start()]);
      await pollUntil([a, b], 'two members to split 4 partitions', () => balanced([a, b], tp, n));
      assert.equal(a.assignment().length, 2);
      assert.equal(b.assignment().length, 2);
      for (const m of [a, b]) {
        assert.deepEqual(m.eventsSince(0, 'lost'), []);
        // What a member was given minus what it gave back is what it owns.
        const net = m.eventsSince(0, 'assigned').filter((p) => !m.eventsSince(0, 'revoked').includes(p));
        assert.deepEqual(net, m.assignment());
      }

      // A third member joins: A and B keep what they still own, only moved partitions are revoked.
      const before = { a: a.assignment(), b: b.assignment() };
      const mark = { a: a.events.length, b: b.events.length };
      const c = new Member(t, consumerOptions(groupId, [tp]));
      closeLater(c.consumer);
      await c.consumer.start();
      await pollUntil([a, b, c], 'three members to balance 4 partitions', () => balanced([a, b, c], tp, n));
      const movedToC = c.assignment();
      assert.equal(movedToC.length, 1, 'the newcomer takes one partition');
      for (const [m, was, i] of [
        [a, before.a, mark.a],
        [b, before.b, mark.b],
      ] as const) {
        const now = m.assignment();
        assert.ok(
          now.every((p) => was.includes(p)),
          `a member keeps what it owned: ${now} ⊆ ${was}`,
        );
        assert.deepEqual(m.eventsSince(i, 'assigned'), [], 'no partition is newly assigned to an old member');
        assert.deepEqual(m.eventsSince(i, 'lost'), []);
        const revoked = m.eventsSince(i, 'revoked');
        assert.deepEqual(
          revoked,
          was.filter((p) => !now.includes(p)),
          'only the partitions that moved are revoked',
        );
        assert.ok(
          revoked.every((p) => movedToC.includes(p)),
          'a revoked partition went to the newcomer',
        );
      }
      assert.deepEqual(c.eventsSince(0, 'assigned'), movedToC);

      // B leaves: its partitions are revoked on it and assigned to the others.
      const bOwned = b.assignment();
      const bMark = b.events.length;
      const markA = a.events.length;
      const markC = c.events.length;
      await b.consumer.close();
      assert.deepEqual(b.eventsSince(bMark, 'revoked'), bOwned);
      await pollUntil([a, c], 'two members to take over', () => balanced([a, c], tp, n));
      const gained = [...a.eventsSince(markA, 'assigned'), ...c.eventsSince(markC, 'assigned')].sort();
      assert.deepEqual(gained, bOwned, "the leaver's partitions went to the others");
      assert.deepEqual([...a.eventsSince(markA, 'revoked'), ...c.eventsSince(markC, 'revoked')], []);
      assert.deepEqual([...a.eventsSince(markA, 'lost'), ...c.eventsSince(markC, 'lost')], []);
    });

    it('describeGroup: members with client ids and the partitions each was assigned; unknown group is Dead', {
      timeout: CASE_TIMEOUT,
    }, async () => {
      const n = 4;
      const tp = await topic(n, 'describe');
      const groupId = uniq('describe');
      const unknown = await t.admin.describeGroup(uniq('nogroup'));
      assert.equal(unknown.state, 'Dead');
      assert.deepEqual(unknown.members, []);
      const a = new Member(t, { ...consumerOptions(groupId, [tp]), clientId: 'describe-a' });
      const b = new Member(t, { ...consumerOptions(groupId, [tp]), clientId: 'describe-b' });
      closeLater(a.consumer);
      closeLater(b.consumer);
      await Promise.all([a.consumer.start(), b.consumer.start()]);
      await pollUntil([a, b], 'two members to split 4 partitions', () => balanced([a, b], tp, n));
      const expected = new Map([
        ['describe-a', a.assignment()],
        ['describe-b', b.assignment()],
      ]);
      // The coordinator may still finish the last sync round: wait for Stable with both members.
      const d = await until(
        'the group to be described as Stable with both assignments',
        async () => {
          const g = await t.admin.describeGroup(groupId);
          const ok =
            g.state === 'Stable' &&
            g.members.length === 2 &&
            g.members.every((m) => expected.get(m.clientId)?.join(' ') === sortTps(m.assignment).join(' '));
          if (!ok) await new Promise((r) => setTimeout(r, 100));
          return ok ? g : undefined;
        },
        () => 'not yet',
      );
      assert.equal(d.groupId, groupId);
      assert.deepEqual(d.members.map((m) => m.clientId).sort(), ['describe-a', 'describe-b']);
      for (const m of d.members) {
        assert.ok(m.memberId.length > 0);
        assert.equal(m.groupInstanceId, null);
      }
      assert.deepEqual(
        d.members.flatMap((m) => sortTps(m.assignment)).sort(),
        sortTps(allOf(tp, n)),
        'every partition appears once',
      );
      assert.deepEqual(
        d.members.map((m) => m.memberId),
        d.members.map((m) => m.memberId).sort(),
        'sorted by member id',
      );
    });

    it('a member that stops polling past maxPollIntervalMs loses its partitions (onLost) to the others', {
      timeout: CASE_TIMEOUT,
    }, async () => {
      const n = 2;
      const tp = await topic(n, 'stall');
      const groupId = uniq('stall');
      const opts = { ...consumerOptions(groupId, [tp]), maxPollIntervalMs: sessionTimeoutMs };
      const a = new Member(t, opts);
      const b = new Member(t, opts);
      closeLater(a.consumer);
      closeLater(b.consumer);
      await Promise.all([a.consumer.start(), b.consumer.start()]);
      await pollUntil([a, b], 'two members to split 2 partitions', () => balanced([a, b], tp, n));
      const aOwned = a.assignment();
      const bMark = b.events.length;
      // A stalls; B keeps polling and takes everything once A has been dropped.
      await pollUntil([b], 'the survivor to own everything', () => b.assignment().length === n);
      assert.deepEqual(b.eventsSince(bMark, 'assigned'), aOwned);
      assert.deepEqual(b.eventsSince(bMark, 'revoked'), []);
      // A polls again: its partitions were lost (no orderly revocation), then it rejoins.
      const aMark = a.events.length;
      await pollUntil([a, b], 'the group to balance again', () => balanced([a, b], tp, n));
      assert.deepEqual(a.eventsSince(aMark, 'lost'), aOwned);
      assert.deepEqual(a.eventsSince(aMark, 'revoked'), []);
      assert.equal(a.eventsSince(aMark, 'assigned').length, 1);
    });

    it('group consumer position: past the commit marker, the aborted records and the abort marker at the end', {
      timeout: CASE_TIMEOUT,
    }, async () => {
      const tp = await topic(1, 'position');
      const producer = closeLater(t.producer({ transactionalId: uniq('position') }));
      await producer.connect();
      const v = (s: string) => ({ key: null, value: Buffer.from(s) });
      producer.beginTransaction();
      void producer.send(tp, 0, [v('c0'), v('c1')]);
      await producer.commitTransaction(); // offsets 0, 1, commit marker 2
      producer.beginTransaction();
      void producer.send(tp, 0, [v('a0'), v('a1')]);
      await producer.abortTransaction(); // offsets 3, 4, abort marker 5
      const [end] = await t.admin.listOffsets([{ topic: tp, partition: 0 }], 'latest', 'read_committed');
      assert.equal(end?.offset, 6);
      const m = new Member(t, consumerOptions(uniq('position'), [tp]));
      closeLater(m.consumer);
      assert.equal(m.consumer.position({ topic: tp, partition: 0 }), undefined, 'not assigned yet');
      await m.consumer.start();
      await pollUntil([m], 'the committed records', () => m.records.length >= 2);
      assert.deepEqual(
        m.records.map((r) => [r.offset, r.value?.toString()]),
        [
          [0, 'c0'],
          [1, 'c1'],
        ],
      );
      await pollUntil([m], 'the position to pass the aborted transaction', () => {
        const p = m.consumer.position({ topic: tp, partition: 0 });
        return p !== undefined && p >= 6;
      });
      assert.equal(m.consumer.position({ topic: tp, partition: 0 }), 6);
      assert.equal(m.records.length, 2, 'no aborted record returned');
    });

    it('a consumer starts from the committed offset, else from the earliest offset', {
      timeout: CASE_TIMEOUT,
    }, async () => {
      const tp = await topic(2, 'resume');
      const groupId = uniq('resume');
      const producer = closeLater(t.producer());
      await producer.connect();
      const recs = (p: number) =>
        Array.from({ length: 10 }, (_, i) => ({ key: null, value: Buffer.from(`p${p}-${i}`) }));
      await producer.send(tp, 0, recs(0));
      await producer.send(tp, 1, recs(1));
      const first = new Member(t, consumerOptions(groupId, [tp]));
      closeLater(first.consumer);
      await first.consumer.start();
      await pollUntil([first], 'all 20 records', () => first.records.length >= 20);
      assert.equal(first.records.length, 20);
      for (const p of [0, 1]) {
        assert.deepEqual(
          first.records.filter((r) => r.partition === p).map((r) => r.offset),
          Array.from({ length: 10 }, (_, i) => i),
        );
      }
      await first.consumer.commit([{ topic: tp, partition: 0, offset: 6 }]);
      assert.deepEqual(await t.admin.committedOffsets(groupId, allOf(tp, 2)), [
        { topic: tp, partition: 0, offset: 6 },
        { topic: tp, partition: 1, offset: null },
      ]);
      await first.consumer.close();

      const second = new Member(t, consumerOptions(groupId, [tp]));
      closeLater(second.consumer);
      await second.consumer.start();
      await pollUntil([second], '14 records', () => second.records.length >= 14);
      const byPart = (p: number) =>
        second.records.filter((r) => r.partition === p).map((r) => r.value?.toString());
      assert.deepEqual(
        byPart(0),
        [6, 7, 8, 9].map((i) => `p0-${i}`),
      );
      assert.deepEqual(
        byPart(1),
        Array.from({ length: 10 }, (_, i) => `p1-${i}`),
      );

      // seek, pause and resume move and hold the fetch position.
      second.records.length = 0;
      second.consumer.seek({ topic: tp, partition: 0 }, 8);
      second.consumer.pause([{ topic: tp, partition: 1 }]);
      await producer.send(tp, 1, [{ key: null, value: Buffer.from('p1-10') }]);
      await pollUntil([second], 'the sought records', () => second.records.length >= 2);
      for (let i = 0; i < 3; i++) second.records.push(...(await second.consumer.poll(10, 50)));
      assert.deepEqual(
        second.records.map((r) => r.value?.toString()),
        ['p0-8', 'p0-9'],
      );
      second.consumer.resume([{ topic: tp, partition: 1 }]);
      await pollUntil([second], 'the resumed partition', () => second.records.length >= 3);
      assert.deepEqual(second.records[2]?.value?.toString(), 'p1-10');
    });

    it('consume-transform-produce: exactly once across an abandoned transaction and a restart', {
      timeout: CASE_TIMEOUT,
    }, async () => {
      const n = 2;
      const input = await topic(n, 'eos-in');
      const output = await topic(n, 'eos-out');
      const groupId = uniq('eos');
      const txid = uniq('eos');
      const seed = closeLater(t.producer());
      await seed.connect();
      for (let p = 0; p < n; p++) {
        const records = Array.from({ length: 10 }, (_, i) => ({
          key: Buffer.from(`k${p}-${i}`),
          value: Buffer.from(`v${p}-${i}`),
        }));
        await seed.send(input, p, records);
      }
      const transform = (r: IncomingRecord): OutgoingRecord => ({
        key: r.key,
        value: Buffer.from((r.value as Buffer).toString().toUpperCase()),
        timestamp: r.timestamp,
      });

      /** One transaction: the polled records' outputs plus the offsets after them. */
      async function round(producer: Producer, m: Member, records: IncomingRecord[], commit: boolean) {
        producer.beginTransaction();
        const next = new Map<number, number>();
        for (const r of records) {
          void producer.send(output, r.partition, [transform(r)]);
          next.set(r.partition, r.offset + 1);
        }
        await producer.sendOffsets(
          m.consumer,
          [...next].map(([partition, offset]) => ({ topic: input, partition, offset })),
        );
        if (commit) await producer.commitTransaction();
        else await producer.flush();
      }

      // Instance 1 commits the first records of each partition, then leaves a transaction open.
      const m1 = new Member(t, { ...consumerOptions(groupId, [input]), isolationLevel: 'read_committed' });
      closeLater(m1.consumer);
      const p1 = closeLater(t.producer({ transactionalId: txid }));
      await p1.connect();
      await m1.consumer.start();
      await pollUntil([m1], 'all input', () => m1.records.length >= 20);
      const firstPart = m1.records.filter((r) => r.offset < 6);
      const rest = m1.records.filter((r) => r.offset >= 6);
      await round(p1, m1, firstPart, true);
      await round(p1, m1, rest, false);

      // Instance 2 starts with the same transactional id: the open transaction is aborted.
      const p2 = closeLater(t.producer({ transactionalId: txid }));
      await p2.connect();
      await assert.rejects(p1.commitTransaction(), rejectsWith(['PRODUCER_FENCED']));
      await m1.consumer.close();
      assert.deepEqual(await t.admin.committedOffsets(groupId, allOf(input, n)), [
        { topic: input, partition: 0, offset: 6 },
        { topic: input, partition: 1, offset: 6 },
      ]);
      const m2 = new Member(t, { ...consumerOptions(groupId, [input]), isolationLevel: 'read_committed' });
      closeLater(m2.consumer);
      await m2.consumer.start();
      await pollUntil([m2], 'the uncommitted input', () => m2.records.length >= 8);
      assert.deepEqual(m2.records.map((r) => r.offset).sort(), [6, 6, 7, 7, 8, 8, 9, 9]);
      await round(p2, m2, m2.records, true);

      const committed = await readAll(allOf(output, n), 'read_committed');
      const got = committed.map((r) => `${r.partition}:${r.value?.toString()}`).sort();
      const want = Array.from({ length: n }, (_, p) =>
        Array.from({ length: 10 }, (_, i) => `${p}:V${p}-${i}`),
      )
        .flat()
        .sort();
      assert.deepEqual(got, want, 'every input transformed exactly once');
      const uncommitted = await readAll(allOf(output, n), 'read_uncommitted');
      assert.equal(
        uncommitted.length,
        20 + 8,
        'the aborted outputs are in the log, invisible to read_committed',
      );
      assert.deepEqual(await t.admin.committedOffsets(groupId, allOf(input, n)), [
        { topic: input, partition: 0, offset: 10 },
        { topic: input, partition: 1, offset: 10 },
      ]);
    });
  });
}
