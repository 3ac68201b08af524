/**
 * The StreamRuntime suite, run on each transport (runtime-embedded.test.ts: the broker's
 * handlers in-process; runtime-kafka.test.ts: librdkafka over TCP to the same broker): tasks
 * per partition shared by two instances; a keyBy through a repartition topic gives the exact
 * windowed counts; an instance replaced by another restores its state from the changelog and
 * continues exactly; a crash inside a transaction (outputs sent, not committed) leaves no
 * duplicate in read_committed output once a successor with the same instance id fences it;
 * at_least_once loses nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  counting,
  jsonSerde,
  type ProcessingGuarantee,
  StreamApp,
  StreamRuntime,
  tumbling,
} from '../../../src/stream/index.js';
import {
  createKafkaTransport,
  type IncomingRecord,
  type IsolationLevel,
  type TopicPartition,
  type Transport,
} from '../../../src/transport/index.js';
import { type ManagedBrokerProcess, startBrokerProcess } from '../../helpers/broker-process.js';
import { startTestBroker, type TestBroker } from '../../transport/broker-fixture.js';

interface Ev {
  k: string;
  ts: number;
}

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

function windowApp(id: string): StreamApp {
  const app = new StreamApp(id);
  app
    .stream<Ev>(`${id}-in`, { timestamp: (e) => e.ts, serde: jsonSerde<Ev>() })
    .keyBy((e) => e.k)
    .window(tumbling(1000))
    .aggregate(counting(), 'count')
    .to(`${id}-out`);
  return app;
}

/** The same running count on the record key: one sub-topology, no repartition. */
function rollingOnRecordKey(id: string): StreamApp {
  const app = new StreamApp(id);
  app
    .stream<Ev>(`${id}-in`, { timestamp: (e) => e.ts, serde: jsonSerde<Ev>() })
    .asKeyed<string>()
    .aggregate(counting(), 'running')
    .to(`${id}-out`);
  return app;
}

/** A running count per key: every record emits its key's count so far (state continues). */
export function rollingApp(id: string): StreamApp {
  const app = new StreamApp(id);
  app
    .stream<Ev>(`${id}-in`, { timestamp: (e) => e.ts, serde: jsonSerde<Ev>() })
    .keyBy((e) => e.k)
    .aggregate(counting(), 'running')
    .to(`${id}-out`);
  return app;
}

/** Produces events round-robin over the partitions (keyed: by the key's index in KEYS). */
export async function produce(
  t: Transport,
  topic: string,
  partitions: number,
  events: Ev[],
  keyed = false,
): Promise<void> {
  const p = t.producer({});
  await p.connect();
  const byPartition = new Map<number, Ev[]>();
  events.forEach((e, i) => {
    const part = keyed ? KEYS.indexOf(e.k) % partitions : i % partitions;
    byPartition.set(part, [...(byPartition.get(part) ?? []), e]);
  });
  for (const [part, evs] of byPartition) {
    await p.send(
      topic,
      part,
      evs.map((e) => ({
        key: keyed ? Buffer.from(e.k) : null,
        value: Buffer.from(JSON.stringify(e)),
        timestamp: e.ts,
      })),
    );
  }
  await p.flush();
  await p.close();
}

/** Reads a topic from the start until `count` records arrived (or 60 s passed). */
export async function readAll(
  t: Transport,
  topic: string,
  count: number,
  isolationLevel: IsolationLevel = 'read_committed',
): Promise<IncomingRecord[]> {
  const n = (await t.admin.describeTopics([topic])).get(topic) ?? 1;
  const r = t.partitionReader({ isolationLevel });
  await r.assign(Array.from({ length: n }, (_, partition) => ({ topic, partition, offset: 0 })));
  const out: IncomingRecord[] = [];
  const deadline = Date.now() + 60_000;
  while (out.length < count && Date.now() < deadline) out.push(...(await r.poll(10_000, 100)));
  // A little longer, so extra (duplicate) records would be seen too.
  out.push(...(await r.poll(10_000, 300)));
  await r.close();
  return out;
}

/**
 * For one describe block: a `sluice broker` process (short initial rebalance delay) and a kafka
 * transport to it, started before its tests and stopped after them. The fields are set once
 * `before` has run.
 */
export function brokerProcessWithTransport(): { broker: ManagedBrokerProcess; t: Transport } {
  const env = {} as { broker: ManagedBrokerProcess; t: Transport };
  before(async () => {
    env.broker = await startBrokerProcess({ groupInitialRebalanceDelayMs: 300 });
    env.t = createKafkaTransport({ bootstrap: env.broker.bootstrap, requestTimeoutMs: 20_000 });
  });
  after(async () => {
    await env.t?.close();
    await env.broker?.stop();
  });
  return env;
}

export async function until(
  cond: () => boolean | Promise<boolean>,
  what: string | (() => string),
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await cond())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function events(n: number, start = 0): Ev[] {
  return Array.from({ length: n }, (_, i) => ({
    k: KEYS[(start + i) % KEYS.length],
    ts: 1000 + (start + i) * 7,
  }));
}

/** Tumbling 1 s counts per key (`key@windowStart` → count), as windowApp computes them. */
function windowOracle(evs: readonly Ev[]): Map<string, number> {
  const oracle = new Map<string, number>();
  for (const e of evs) {
    const id = `${e.k}@${Math.floor(e.ts / 1000) * 1000}`;
    oracle.set(id, (oracle.get(id) ?? 0) + 1);
  }
  return oracle;
}

/** windowApp's output as `key@windowStart` → count, failing on a window emitted twice. */
function windowsOf(records: readonly IncomingRecord[]): Map<string, number> {
  const got = new Map<string, number>();
  for (const r of records) {
    const w = JSON.parse(String(r.value)) as { key: string; window: { start: number }; value: number };
    const id = `${w.key}@${w.window.start}`;
    assert.equal(got.has(id), false, `window ${id} emitted twice`);
    got.set(id, w.value);
  }
  return got;
}

function runtime(
  app: StreamApp,
  t: Transport,
  instanceId: string,
  threads = 1,
  guarantee?: ProcessingGuarantee,
) {
  return new StreamRuntime(app, {
    transport: t,
    instanceId,
    threads,
    guarantee,
    commitIntervalMs: 50,
    sessionTimeoutMs: 3000,
  });
}

/** Per key, the running counts in output order. */
export function countsByKey(records: IncomingRecord[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const r of records) {
    const k = String(r.key);
    m.set(k, [...(m.get(k) ?? []), Number(String(r.value))]);
  }
  return m;
}

export function expectedRunning(evs: Ev[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of evs) m.set(e.k, (m.get(e.k) ?? 0) + 1);
  return m;
}

/**
 * Waits (bounded) until every given partition is consumed to its end (last stable offset),
 * committed by `group`, and its log start offset moved up to that committed offset; returns
 * the committed offsets.
 */
export async function purgedUpToCommitted(
  t: Transport,
  group: string,
  partitions: readonly TopicPartition[],
): Promise<number[]> {
  let seen = '';
  await until(
    async () => {
      const [starts, committed, ends] = await Promise.all([
        t.admin.listOffsets(partitions, 'earliest'),
        t.admin.committedOffsets(group, partitions),
        t.admin.listOffsets(partitions, 'latest', 'read_committed'),
      ]);
      seen = partitions
        .map(
          (tp, i) =>
            `${tp.topic}-${tp.partition} start=${starts[i].offset} committed=${committed[i].offset} end=${ends[i].offset}`,
        )
        .join(', ');
      return partitions.every(
        (_, i) =>
          committed[i].offset !== null &&
          committed[i].offset === ends[i].offset &&
          starts[i].offset === committed[i].offset,
      );
    },
    () => `the partitions purged up to the committed offsets (${seen})`,
  );
  return (await t.admin.committedOffsets(group, partitions)).map((c) => c.offset as number);
}

export function runtimeSuite(name: string, connect: (tb: TestBroker) => Transport): void {
  describe(`StreamRuntime on the ${name} transport`, () => {
    let tb: TestBroker;
    let t: Transport;
    before(async () => {
      tb = await startTestBroker();
      t = connect(tb);
    });
    after(async () => {
      await t.close();
      await tb.close();
    });

    it('splits tasks per partition between two instances (sub-topology x partition)', async () => {
      const app = windowApp('tasks');
      await t.admin.ensureTopics([{ topic: 'tasks-in', partitions: 4 }]);
      const a = runtime(app, t, 'a');
      const b = runtime(windowApp('tasks'), t, 'b');
      await a.start();
      await b.start();
      const all = ['0_0', '0_1', '0_2', '0_3', '1_0', '1_1', '1_2', '1_3'];
      await until(() => {
        const ta = a.assignment().flat();
        const tbs = b.assignment().flat();
        return ta.length > 0 && tbs.length > 0 && [...ta, ...tbs].sort().join() === all.join();
      }, 'both instances to own tasks');
      const ta = a.assignment().flat();
      const tbs = b.assignment().flat();
      assert.equal(ta.filter((x) => tbs.includes(x)).length, 0, 'no task runs twice');
      // The internal topics exist with the input's partition count.
      const topics = await t.admin.describeTopics(['tasks-count-repartition', 'tasks-count-changelog']);
      assert.equal(topics.get('tasks-count-repartition'), 4);
      assert.equal(topics.get('tasks-count-changelog'), 4);
      await a.close();
      await b.close();
    });

    it('a keyBy through the repartition topic gives the exact windowed counts', async () => {
      const app = windowApp('win');
      await t.admin.ensureTopics([{ topic: 'win-in', partitions: 4 }]);
      const evs = events(2000);
      // One closing record per partition far ahead: every window of `evs` fires.
      const closing = Array.from({ length: 4 }, () => ({ k: 'end', ts: 100_000 }));
      await produce(t, 'win-in', 4, [...evs, ...closing]);
      const oracle = windowOracle(evs);
      const rt = runtime(app, t, 'w', 2);
      await rt.start();
      const out = await readAll(t, 'win-out', oracle.size);
      await rt.close();
      const got = new Map<string, number>();
      for (const r of out) {
        const w = JSON.parse(String(r.value)) as {
          key: string;
          window: { start: number };
          value: number;
          kind: string;
        };
        assert.equal(w.kind, 'final');
        const id = `${w.key}@${w.window.start}`;
        assert.equal(got.has(id), false, `window ${id} emitted twice`);
        got.set(id, w.value);
        assert.equal(String(r.key), w.key);
      }
      assert.deepEqual([...got].sort(), [...oracle].sort());
      const m = rt.metrics();
      assert.equal(m.guarantee, 'exactly_once');
      assert.ok(m.commits > 0);
    });

    it('purges consumed repartition records up to the committed offsets; output stays exact across a restart', async () => {
      await t.admin.ensureTopics([{ topic: 'purge-in', partitions: 4 }]);
      const repartition = Array.from({ length: 4 }, (_, partition) => ({
        topic: 'purge-count-repartition',
        partition,
      }));
      const start = (instanceId: string) =>
        new StreamRuntime(windowApp('purge'), {
          transport: t,
          instanceId,
          threads: 2,
          commitIntervalMs: 50,
          sessionTimeoutMs: 3000,
          repartitionPurgeIntervalMs: 200,
        });
      const purgedToCommitted = () => purgedUpToCommitted(t, 'purge', repartition);
      // One closing record per partition far ahead: every window of `first` fires.
      const first = events(1200);
      const closing = (ts: number) => Array.from({ length: 4 }, () => ({ k: 'end', ts }));
      await produce(t, 'purge-in', 4, [...first, ...closing(100_000)]);
      const a = start('a');
      await a.start();
      const firstOracle = windowOracle(first);
      await readAll(t, 'purge-out', firstOracle.size);
      const committedA = await purgedToCommitted();
      const purged = a.metrics().threads;
      await a.close();
      assert.ok(
        committedA.every((o) => o > 0),
        `every repartition partition had records: ${committedA}`,
      );
      assert.ok(purged.reduce((n, th) => n + th.purges, 0) > 0, 'the threads sent DeleteRecords');
      assert.ok(
        purged.reduce((n, th) => n + th.purgedRecords, 0) >= committedA.reduce((x, y) => x + y, 0),
        'the purge metrics count every offset below the committed ones',
      );
      // A new instance resumes from the committed offsets, above the purged records: later
      // windows (and the 'end' window the new closing records fire) come out exactly once.
      const second = events(300, 20_000);
      await produce(t, 'purge-in', 4, [...second, ...closing(200_000)]);
      const b = start('b');
      await b.start();
      const expected = new Map([...firstOracle, ...windowOracle([...second, ...closing(100_000)])]);
      const out = await readAll(t, 'purge-out', expected.size);
      const committedB = await purgedToCommitted();
      await b.close();
      assert.deepEqual([...windowsOf(out)].sort(), [...expected].sort());
      committedB.forEach((o, p) => {
        assert.ok(o > (committedA[p] as number), `partition ${p} consumed and purged further`);
      });
    });

    it('an idle input partition (idleness) does not hold back windows behind a repartition', async () => {
      const app = new StreamApp('idle');
      app
        .stream<Ev>('idle-in', { timestamp: (e) => e.ts, serde: jsonSerde<Ev>(), idleness: 200 })
        .keyBy((e) => e.k)
        .window(tumbling(1000))
        .aggregate(counting(), 'count')
        .to('idle-out');
      await t.admin.ensureTopics([{ topic: 'idle-in', partitions: 2 }]);
      // Partition 1 stays empty: without idleness its task would hold every window open.
      const p = t.producer({});
      await p.connect();
      const evs = [...events(70), { k: 'end', ts: 50_000 }];
      await p.send(
        'idle-in',
        0,
        evs.map((e) => ({ key: null, value: Buffer.from(JSON.stringify(e)), timestamp: e.ts })),
      );
      await p.close();
      const rt = runtime(app, t, 'idle', 1);
      await rt.start();
      const out = await readAll(t, 'idle-out', KEYS.length);
      await rt.close();
      const got = out.map((r) => JSON.parse(String(r.value)) as { key: string; value: number });
      assert.deepEqual(
        got.map((w) => `${w.key}=${w.value}`).sort(),
        KEYS.map((k) => `${k}=10`),
      );
    });

    it('restores state from the changelog after the instance is replaced: counts continue exactly', async () => {
      await t.admin.ensureTopics([{ topic: 'roll-in', partitions: 3 }]);
      const first = events(600);
      const second = events(600, 600);
      await produce(t, 'roll-in', 3, first);
      const a = runtime(rollingApp('roll'), t, 'first');
      await a.start();
      await readAll(t, 'roll-out', first.length);
      await a.close();
      const b = runtime(rollingApp('roll'), t, 'second');
      await b.start();
      await produce(t, 'roll-in', 3, second);
      const out = await readAll(t, 'roll-out', first.length + second.length);
      const restored = b.metrics().threads[0].restoredRecords;
      await b.close();
      assert.ok(restored > 0, 'the new instance restored records from the changelog');
      const expected = expectedRunning([...first, ...second]);
      const byKey = countsByKey(out);
      for (const [k, n] of expected) {
        const seq = byKey.get(k) ?? [];
        assert.deepEqual(
          [...seq].sort((x, y) => x - y),
          Array.from({ length: n }, (_, i) => i + 1),
          `running count of ${k}`,
        );
      }
    });

    it('exactly_once: a crash inside a transaction leaves no duplicate in read_committed output', async () => {
      await t.admin.ensureTopics([{ topic: 'eos-in', partitions: 2 }]);
      const first = events(400);
      const second = events(400, 400);
      await produce(t, 'eos-in', 2, first, true);
      const a = runtime(rollingOnRecordKey('eos'), t, 'same');
      await a.start();
      await readAll(t, 'eos-out', first.length);
      const crashed = a.crashAtNextCommit();
      await produce(t, 'eos-in', 2, second, true);
      await crashed;
      // The successor with the same instance id fences the open transaction and takes over.
      const b = runtime(rollingOnRecordKey('eos'), t, 'same');
      await b.start();
      const out = await readAll(t, 'eos-out', first.length + second.length);
      const uncommitted = await readAll(t, 'eos-out', first.length + second.length + 1, 'read_uncommitted');
      await b.close();
      await a.releaseCrashed();
      assert.ok(
        uncommitted.length > out.length,
        `the crashed transaction wrote records that were aborted (${uncommitted.length} vs ${out.length})`,
      );
      const expected = expectedRunning([...first, ...second]);
      const byKey = countsByKey(out);
      for (const [k, n] of expected) {
        assert.deepEqual(
          [...(byKey.get(k) ?? [])].sort((x, y) => x - y),
          Array.from({ length: n }, (_, i) => i + 1),
          `running count of ${k}: no duplicate, no loss`,
        );
      }
    });

    it('at_least_once: every input is counted (duplicates allowed), offsets committed', async () => {
      await t.admin.ensureTopics([{ topic: 'alo-in', partitions: 2 }]);
      const evs = events(500);
      await produce(t, 'alo-in', 2, evs);
      const rt = runtime(rollingApp('alo'), t, 'alo', 1, 'at_least_once');
      await rt.start();
      const out = await readAll(t, 'alo-out', evs.length);
      await rt.close();
      const expected = expectedRunning(evs);
      const byKey = countsByKey(out);
      for (const [k, n] of expected) {
        const seen = new Set(byKey.get(k));
        for (let i = 1; i <= n; i++) assert.ok(seen.has(i), `count ${i} of ${k} present`);
      }
      const committed = await t.admin.committedOffsets('alo', [
        { topic: 'alo-in', partition: 0 },
        { topic: 'alo-in', partition: 1 },
      ]);
      assert.deepEqual(
        committed.map((c) => c.offset),
        [250, 250],
      );
    });
  });
}
