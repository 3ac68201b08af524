/** TaskRunner: poll → ingest → commit loop, offsets handed to the committer, backpressure. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ArraySource,
  CollectingSink,
  StreamApp,
  Task,
  TaskRunner,
  TestDriver,
  tumbling,
  type Windowed,
} from '../../src/stream/index.js';

function app() {
  const a = new StreamApp('runner');
  a.stream<number>('in', { partitions: 2, timestamp: (n) => n })
    .keyBy((n) => n % 3)
    .window(tumbling(50))
    .count()
    .to('out');
  return a;
}

function newTask(a: StreamApp, sinks: Map<string, CollectingSink>, extra = {}) {
  return new Task(a.topology(), {
    clock: () => 0,
    sinkFactory: (name) => {
      const s = new CollectingSink(name);
      sinks.set(name, s);
      return s;
    },
    ...extra,
  });
}

describe('TaskRunner', () => {
  it('runs a bounded source to the end; committed output equals the test driver; offsets reach the end', async () => {
    const p0 = Array.from({ length: 300 }, (_, i) => i * 2);
    const p1 = Array.from({ length: 200 }, (_, i) => i * 3 + 1);
    const sinks = new Map<string, CollectingSink>();
    const a = app();
    const task = newTask(a, sinks);
    const committed: string[] = [];
    const runner = new TaskRunner(
      task,
      new ArraySource().add('in', 0, p0, (n) => n).add('in', 1, p1, (n) => n),
      {
        maxPollRecords: 64,
        commitIntervalMs: 0,
        clock: () => 0,
        endOfInput: true,
        committer: {
          commit(offsets) {
            const m = offsets.get('in');
            committed.push(`${m?.get(0)}/${m?.get(1)}`);
          },
        },
      },
    );
    await runner.run();
    assert.equal(runner.metrics.recordsIn, 500);
    assert.ok(runner.metrics.commits > 3, 'committed every round');
    assert.equal(committed.at(-1), '300/200');

    const d = new TestDriver(app(), { startTime: 0 });
    d.input<number>('in').pipeAll(
      p0.map((value) => ({ value, timestamp: value, partition: 0 })),
      32,
    );
    d.input<number>('in').pipeAll(
      p1.map((value) => ({ value, timestamp: value, partition: 1 })),
      32,
    );
    d.end();
    const norm = (ws: unknown[]) =>
      (ws as Array<Windowed<number, number>>).map((w) => `${w.key}|${w.window.start}=${w.value}`).sort();
    assert.deepEqual(
      norm(sinks.get('out')?.committed.map((r) => r.value) ?? []),
      norm(d.output('out').values()),
    );
  });

  it('pauses polling while async operators hold more than maxPending records', async () => {
    const a = new StreamApp('bp');
    let maxSeen = 0;
    a.stream<number>('in')
      .mapAsync(
        async (n) => {
          await new Promise((r) => setTimeout(r, 1));
          return n;
        },
        { concurrency: 4 },
      )
      .to('out');
    const sinks = new Map<string, CollectingSink>();
    const task = newTask(a, sinks);
    const values = Array.from({ length: 200 }, (_, i) => i);
    const runner = new TaskRunner(task, new ArraySource().add('in', 0, values), {
      maxPending: 20,
      maxPollRecords: 10,
    });
    const orig = runner.runOnce.bind(runner);
    runner.runOnce = async () => {
      maxSeen = Math.max(maxSeen, task.pending());
      return orig();
    };
    await runner.run();
    assert.equal(sinks.get('out')?.committed.length, 200);
    assert.ok(maxSeen <= 30, `pending stayed bounded (max ${maxSeen})`);
    assert.ok(runner.metrics.backpressureMs > 0, 'time blocked on async work was counted');
  });
});
