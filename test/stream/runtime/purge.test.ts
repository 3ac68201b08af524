/**
 * Repartition purge (stream-thread.ts, "Repartition purge") on the embedded transport, where
 * the cluster's answers can be held back: the one Admin call the purge makes
 * (deleteRecords) goes through a gate that fails the first calls, then holds one call
 * unanswered until the test releases it; every other call is the real transport's.
 *
 * - Failed purges are logged and retried at the next interval; they never fail a commit or a
 *   task (no abort, revive or reset) and the exactly_once output is exact.
 * - While a purge hangs, the thread keeps processing and committing, and starts no second
 *   purge (one in flight per thread).
 * - at_least_once purges too, up to the offsets the group accepted.
 * And on the kafka transport (librdkafka over TCP) against a `sluice broker` process: the purge
 * reaches the committed offsets, the moved log start survives a kill -9 of the broker, and a
 * new instance then continues exactly from the committed offsets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SluiceError } from '../../../src/common/index.js';
import { StreamRuntime } from '../../../src/stream/index.js';
import {
  type Admin,
  createEmbeddedTransport,
  type TopicPartitionOffset,
  type Transport,
} from '../../../src/transport/index.js';
import { startTestBroker, type TestBroker } from '../../transport/broker-fixture.js';
import {
  brokerProcessWithTransport,
  countsByKey,
  events,
  expectedRunning,
  produce,
  purgedUpToCommitted,
  readAll,
  rollingApp,
  until,
} from './runtime-suite.js';

/** deleteRecords: the first `failures` calls fail, the next one waits for release(). */
class DeleteRecordsGate {
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  private release: (() => void) | undefined;
  private readonly released: Promise<void>;

  constructor(
    private readonly failures: number,
    private readonly holdOne: boolean,
  ) {
    this.released = new Promise((r) => {
      this.release = r;
    });
  }

  wrap(inner: Transport): Transport {
    const admin = new Proxy(inner.admin, {
      get: (target, prop) => {
        if (prop === 'deleteRecords')
          return (offsets: readonly TopicPartitionOffset[]) => this.call(target, offsets);
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    return {
      kind: inner.kind,
      description: inner.description,
      admin,
      groupConsumer: (o) => inner.groupConsumer(o),
      partitionReader: (o) => inner.partitionReader(o),
      producer: (o) => inner.producer(o),
      close: () => inner.close(),
    };
  }

  get holding(): boolean {
    return this.holdOne && this.calls > this.failures && this.inFlight > 0;
  }

  open(): void {
    this.release?.();
  }

  private async call(admin: Admin, offsets: readonly TopicPartitionOffset[]) {
    const n = ++this.calls;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (n <= this.failures) throw new SluiceError('NETWORK', `injected DeleteRecords failure ${n}`);
      if (this.holdOne && n === this.failures + 1) await this.released;
      return await admin.deleteRecords(offsets);
    } finally {
      this.inFlight--;
    }
  }
}

describe('repartition purge', { timeout: 120_000 }, () => {
  let tb: TestBroker;
  let t: Transport;
  before(async () => {
    tb = await startTestBroker();
    t = createEmbeddedTransport(tb.broker);
  });
  after(async () => {
    await t?.close();
    await tb?.close();
  });

  const repartition = (app: string) =>
    Array.from({ length: 2 }, (_, partition) => ({ topic: `${app}-running-repartition`, partition }));

  it('failed purges are retried and fail nothing; a hanging purge blocks neither processing nor commits, and no second one starts', async () => {
    const gate = new DeleteRecordsGate(2, true);
    await t.admin.ensureTopics([{ topic: 'gate-in', partitions: 2 }]);
    const rt = new StreamRuntime(rollingApp('gate'), {
      transport: gate.wrap(t),
      instanceId: 'gate',
      threads: 1,
      commitIntervalMs: 50,
      sessionTimeoutMs: 3000,
      repartitionPurgeIntervalMs: 100,
    });
    const first = events(300);
    const second = events(300, 300);
    await produce(t, 'gate-in', 2, first);
    await rt.start();
    try {
      await readAll(t, 'gate-out', first.length);
      await until(
        () => gate.holding,
        () => `a purge held at the gate (${gate.calls} calls)`,
      );
      // The held purge does not hold the thread: more input is processed and committed.
      const commits = rt.metrics().commits;
      await produce(t, 'gate-in', 2, second);
      const out = await readAll(t, 'gate-out', first.length + second.length);
      // (read_committed: that output is there only because transactions committed meanwhile)
      assert.ok(rt.metrics().commits > commits, 'commits while the purge is held');
      assert.equal(gate.calls, 3, 'no second purge started while one was in flight');
      assert.ok(gate.holding);
      gate.open();
      await purgedUpToCommitted(t, 'gate', repartition('gate'));
      const m = rt.metrics().threads[0];
      assert.equal(m.purgeFailures, 2);
      assert.ok(m.purges >= 1, `purges ${m.purges}`);
      assert.equal(gate.maxInFlight, 1);
      assert.deepEqual([m.aborts, m.revives, m.resets], [0, 0, 0], 'no commit or task failed');
      const expected = expectedRunning([...first, ...second]);
      const byKey = countsByKey(out);
      for (const [k, n] of expected) {
        assert.deepEqual(
          [...(byKey.get(k) ?? [])].sort((x, y) => x - y),
          Array.from({ length: n }, (_, i) => i + 1),
          `running count of ${k}`,
        );
      }
    } finally {
      gate.open();
      await rt.close();
    }
  });

  it('at_least_once purges up to the offsets the group accepted', async () => {
    await t.admin.ensureTopics([{ topic: 'alpurge-in', partitions: 2 }]);
    const rt = new StreamRuntime(rollingApp('alpurge'), {
      transport: t,
      instanceId: 'alpurge',
      threads: 1,
      guarantee: 'at_least_once',
      commitIntervalMs: 50,
      sessionTimeoutMs: 3000,
      repartitionPurgeIntervalMs: 100,
    });
    const evs = events(400);
    await produce(t, 'alpurge-in', 2, evs);
    await rt.start();
    try {
      const out = await readAll(t, 'alpurge-out', evs.length);
      const committed = await purgedUpToCommitted(t, 'alpurge', repartition('alpurge'));
      assert.ok(
        committed.every((o) => o > 0),
        `committed ${committed}`,
      );
      const m = rt.metrics().threads[0];
      assert.equal(m.purgeFailures, 0);
      assert.equal(
        m.purgedRecords,
        committed.reduce((a, b) => a + b, 0),
        'one thread purged every offset below the committed ones',
      );
      const byKey = countsByKey(out);
      for (const [k, n] of expectedRunning(evs)) {
        const seen = new Set(byKey.get(k));
        for (let i = 1; i <= n; i++) assert.ok(seen.has(i), `count ${i} of ${k} present`);
      }
    } finally {
      await rt.close();
    }
  });
});

describe('repartition purge against a sluice broker process (kafka transport)', { timeout: 120_000 }, () => {
  const env = brokerProcessWithTransport();

  it('purges to the committed offsets; the log start survives kill -9 of the broker; a new instance continues exactly', async () => {
    const { broker, t } = env;
    const repartition = Array.from({ length: 2 }, (_, partition) => ({
      topic: 'proc-running-repartition',
      partition,
    }));
    const instance = (id: string) =>
      new StreamRuntime(rollingApp('proc'), {
        transport: t,
        instanceId: id,
        threads: 1,
        commitIntervalMs: 50,
        repartitionPurgeIntervalMs: 200,
      });
    await t.admin.ensureTopics([{ topic: 'proc-in', partitions: 2 }]);
    const first = events(300);
    const second = events(300, 300);
    await produce(t, 'proc-in', 2, first);
    const a = instance('a');
    await a.start();
    let committed: number[];
    try {
      await readAll(t, 'proc-out', first.length);
      committed = await purgedUpToCommitted(t, 'proc', repartition);
    } finally {
      await a.close();
    }
    assert.ok(
      committed.every((o) => o > 0),
      `committed ${committed}`,
    );
    await broker.kill();
    await broker.start();
    let starts: number[] = [];
    await until(async () => {
      starts = (await t.admin.listOffsets(repartition, 'earliest').catch(() => [])).map((s) => s.offset);
      return starts.length === repartition.length;
    }, 'the restarted broker to answer');
    assert.deepEqual(starts, committed, 'the log start offsets survived the crash');
    await produce(t, 'proc-in', 2, second);
    const b = instance('b');
    await b.start();
    try {
      const out = await readAll(t, 'proc-out', first.length + second.length);
      await purgedUpToCommitted(t, 'proc', repartition);
      const byKey = countsByKey(out);
      for (const [k, n] of expectedRunning([...first, ...second])) {
        assert.deepEqual(
          [...(byKey.get(k) ?? [])].sort((x, y) => x - y),
          Array.from({ length: n }, (_, i) => i + 1),
          `running count of ${k}`,
        );
      }
    } finally {
      await b.close();
    }
  });
});
