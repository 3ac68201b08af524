/**
 * Checkpoints: a task snapshotted mid-stream and restored into a fresh task (what issue 7 does
 * after a crash or a rebalance) produces exactly the output of an uninterrupted run — windows,
 * sessions, keyed state and timers, watermarks and lateness decisions included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  boundedOutOfOrderness,
  countTrigger,
  globalWindow,
  StreamApp,
  session,
  sliding,
  summing,
  TestDriver,
  tumbling,
  type WindowAssigner,
  type Windowed,
} from '../../src/stream/index.js';

interface Ev {
  k: string;
  ts: number;
  v: number;
}

type Build = () => { app: StreamApp; sink: string };

function windowed(assigner: WindowAssigner): Build {
  return () => {
    const app = new StreamApp('cp');
    app
      .stream<Ev>('in', { partitions: 2, timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(3) })
      .keyBy((e) => e.k)
      .window(assigner, { allowedLateness: 4 })
      .aggregate(summing((e) => e.v))
      .to('out');
    return { app, sink: 'out' };
  };
}

const processBuild: Build = () => {
  const app = new StreamApp('cp-process');
  app
    .stream<Ev>('in', { partitions: 2, timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(3) })
    .keyBy((e) => e.k)
    .process<string>({
      processElement(e, ctx) {
        const sum = ctx.state<number>('sum');
        if (sum.get() === undefined) ctx.timers.registerEventTimeTimer(ctx.timestamp + 7);
        sum.set((sum.get() ?? 0) + e.v);
      },
      onTimer(t, ctx) {
        ctx.emit(`${ctx.key}@${t}=${ctx.state<number>('sum').get()}`);
        ctx.state<number>('sum').clear();
      },
    })
    .to('out');
  return { app, sink: 'out' };
};

/**
 * Outputs grouped by key, in emission order within a key: results of different keys that fire
 * at the same watermark have no defined order (heap ties), per-key order is the contract.
 */
function byKey(values: unknown[]): string[] {
  const keyOf = (v: unknown) => (typeof v === 'string' ? v.split('@')[0] : (v as { key: string }).key);
  return values
    .map((v, i) => ({ k: keyOf(v), i, s: JSON.stringify(v) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.i - b.i))
    .map((x) => x.s);
}

function run(build: Build, events: Ev[], splitAt?: number): string[] {
  const feed = (d: TestDriver, es: Ev[]) => {
    for (const e of es) d.input<Ev>('in').pipe(e, { partition: e.v % 2 });
  };
  const { app, sink } = build();
  const d1 = new TestDriver(app, { startTime: 0 });
  if (splitAt === undefined) {
    feed(d1, events);
    d1.end();
    return byKey(d1.output(sink).values());
  }
  feed(d1, events.slice(0, splitAt));
  const snap = d1.snapshot();
  const out = d1.output(sink).values();
  const again = build();
  const d2 = new TestDriver(again.app, { startTime: 0 });
  d2.restore(snap);
  feed(d2, events.slice(splitAt));
  d2.end();
  return byKey([...out, ...d2.output(again.sink).values()]);
}

const eventsArb = fc
  .array(
    fc.record({
      k: fc.constantFrom('a', 'b', 'c'),
      step: fc.integer({ min: 0, max: 4 }),
      delay: fc.integer({ min: 0, max: 12 }),
      v: fc.integer({ min: 1, max: 9 }),
    }),
    { minLength: 2, maxLength: 50 },
  )
  .map((raw) => {
    let t = 10;
    return raw.map((r) => ({ k: r.k, ts: (t += r.step) > r.delay ? t - r.delay : 0, v: r.v }));
  });

describe('snapshot and restore', () => {
  const cases: Array<[string, Build]> = [
    ['tumbling', windowed(tumbling(10))],
    ['sliding', windowed(sliding(12, 4))],
    ['session', windowed(session(5))],
    ['process state + timers', processBuild],
  ];
  for (const [name, build] of cases) {
    it(`${name}: restored run equals uninterrupted run (property)`, () => {
      fc.assert(
        fc.property(eventsArb, fc.nat(), (events, cut) => {
          const splitAt = cut % (events.length + 1);
          assert.deepEqual(run(build, events, splitAt), run(build, events));
        }),
        { numRuns: 60 },
      );
    });
  }

  it('interval join and count-triggered global windows resume from a snapshot', () => {
    const build = () => {
      const app = new StreamApp('cp-ij');
      const a = app.stream<Ev>('a', { timestamp: (e) => e.ts }).keyBy((e) => e.k);
      const b = app.stream<Ev>('b', { timestamp: (e) => e.ts }).keyBy((e) => e.k);
      a.intervalJoin(b, { lowerMs: -5, upperMs: 5 }, (l, r) => `${l.v}-${r.v}`).to('joined');
      a.window(globalWindow(), { trigger: countTrigger(2) })
        .count()
        .to('counted');
      return app;
    };
    const d1 = new TestDriver(build(), { startTime: 0 });
    d1.input<Ev>('a').pipe({ k: 'x', ts: 10, v: 1 });
    const snap = d1.snapshot();
    const d2 = new TestDriver(build(), { startTime: 0 });
    d2.restore(snap);
    d2.input<Ev>('b').pipe({ k: 'x', ts: 12, v: 2 });
    d2.input<Ev>('a').pipe({ k: 'x', ts: 13, v: 3 });
    assert.deepEqual(d2.output('joined').values(), ['1-2', '3-2'], 'the buffered left record survived');
    assert.deepEqual(
      d2
        .output<Windowed<string, number>>('counted')
        .values()
        .map((w) => w.value),
      [2],
      'the count before the snapshot was kept',
    );
  });

  it('refuses to snapshot while async calls are in flight', async () => {
    const app = new StreamApp('cp-async');
    app
      .stream<number>('in')
      .mapAsync(async (n) => n)
      .to('out');
    const d = new TestDriver(app, { startTime: 0 });
    d.input<number>('in').pipe(1);
    assert.throws(() => d.snapshot(), /in flight/);
    await d.settle();
    assert.equal(d.output('out').size, 1);
    assert.ok(d.snapshot());
  });
});
