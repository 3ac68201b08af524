/** Window operators: tumbling, sliding (pane sharing), session merges, global + triggers, lateness. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assignWindows,
  boundedOutOfOrderness,
  countTrigger,
  globalWindow,
  processingTimeTrigger,
  StreamApp,
  session,
  sliding,
  summing,
  TestDriver,
  tumbling,
  type WindowAssigner,
  type Windowed,
} from '../../src/stream/index.js';

interface E {
  k: string;
  ts: number;
  v: number;
}

function run(assigner: WindowAssigner, events: E[], opts: { bound?: number; lateness?: number } = {}) {
  const app = new StreamApp('w');
  const win = app
    .stream<E>('in', { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(opts.bound ?? 0) })
    .keyBy((e) => e.k)
    .window(assigner, { allowedLateness: opts.lateness ?? 0 })
    .aggregate(summing((e) => e.v));
  const out = win.to('out');
  const late = win.late().to('late');
  const d = new TestDriver(app, { startTime: 0 });
  const input = d.input<E>('in');
  return {
    d,
    input,
    pipe: (es: E[]) => {
      for (const e of es) input.pipe(e);
    },
    results: () => d.output(out).values() as Array<Windowed<string, number>>,
    late: () => d.output(late).values(),
    init: () => {
      for (const e of events) input.pipe(e);
    },
  };
}

const fmt = (ws: Array<Windowed<string, number>>) =>
  ws.map((w) => `${w.kind}:${w.key}[${w.window.start},${w.window.end})=${w.value}`);

describe('tumbling windows', () => {
  it('fires each window once when the watermark passes its end, out-of-order records included', () => {
    const r = run(tumbling(10), [], { bound: 5 });
    r.pipe([
      { k: 'a', ts: 1, v: 1 },
      { k: 'a', ts: 8, v: 2 },
      { k: 'a', ts: 12, v: 4 },
      { k: 'a', ts: 5, v: 8 }, // out of order but within the bound: on time
    ]);
    assert.deepEqual(fmt(r.results()), [], 'wm = 12 − 5 − 1 = 6 < 9: nothing closed');
    r.pipe([{ k: 'b', ts: 15, v: 16 }]);
    assert.deepEqual(fmt(r.results()), ['final:a[0,10)=11'], 'wm = 9 closes [0,10)');
    r.d.end();
    assert.deepEqual(fmt(r.results()), ['final:a[0,10)=11', 'final:a[10,20)=4', 'final:b[10,20)=16']);
  });

  it('late records: updates within allowed lateness, side output beyond it', () => {
    const r = run(tumbling(10), [], { lateness: 5 });
    r.pipe([
      { k: 'a', ts: 3, v: 1 },
      { k: 'a', ts: 11, v: 1 }, // wm 10: [0,10) final
      { k: 'a', ts: 4, v: 10 }, // 9 + 5 > 10: update
      { k: 'a', ts: 16, v: 1 }, // wm 15
      { k: 'a', ts: 5, v: 100 }, // 9 + 5 ≤ 15: late
    ]);
    assert.deepEqual(fmt(r.results()), ['final:a[0,10)=1', 'update:a[0,10)=11']);
    assert.deepEqual(
      r.late().map((e) => (e as E).v),
      [100],
    );
    assert.equal(r.d.lateRecords().length, 1);
    assert.equal(r.d.lateRecords()[0].watermark, 15);
  });
});

describe('sliding windows', () => {
  it('assigns each record to size/slide windows and shares panes (slide not dividing size too)', () => {
    assert.deepEqual(
      assignWindows(sliding(10, 5), 7).map((w) => w.start),
      [5, 0],
    );
    assert.deepEqual(
      assignWindows(sliding(10, 4), 9).map((w) => w.start),
      [8, 4, 0],
    );
    const r = run(sliding(10, 5), []);
    r.pipe([
      { k: 'a', ts: 2, v: 1 },
      { k: 'a', ts: 7, v: 2 },
      { k: 'a', ts: 12, v: 4 },
    ]);
    r.d.end();
    assert.deepEqual(fmt(r.results()), [
      'final:a[-5,5)=1',
      'final:a[0,10)=3',
      'final:a[5,15)=6',
      'final:a[10,20)=4',
    ]);
  });
});

describe('session windows', () => {
  it('merges sessions a late bridging record connects, retracting what it replaces', () => {
    const r = run(session(5), [], { lateness: 100 });
    r.pipe([
      { k: 'a', ts: 0, v: 1 },
      { k: 'a', ts: 3, v: 1 }, // [0, 8)
      { k: 'a', ts: 20, v: 1 }, // wm 19: [0,8) final; [20,25) open
      { k: 'a', ts: 30, v: 1 }, // wm 29: [20,25) final
      { k: 'a', ts: 12, v: 1 }, // [12,17) alone (gap 5 from 3 is 9 > 5)
      { k: 'a', ts: 8, v: 1 }, // bridges [0,8) and [12,17) → [0,17)
    ]);
    r.d.end();
    assert.deepEqual(fmt(r.results()), [
      'final:a[0,8)=2',
      'final:a[20,25)=1',
      'update:a[12,17)=1',
      'retract:a[12,17)=1',
      'retract:a[0,8)=2',
      'update:a[0,17)=4',
      'final:a[30,35)=1',
    ]);
  });

  it('keeps keys apart and drops records whose own window is past lateness', () => {
    const r = run(session(5), []);
    r.pipe([
      { k: 'a', ts: 0, v: 1 },
      { k: 'b', ts: 2, v: 1 },
      { k: 'a', ts: 50, v: 1 }, // wm 49
      { k: 'b', ts: 40, v: 7 }, // 40 + 5 − 1 = 44 ≤ 49: late
    ]);
    r.d.end();
    assert.deepEqual(fmt(r.results()), ['final:a[0,5)=1', 'final:b[2,7)=1', 'final:a[50,55)=1']);
    assert.equal(r.d.lateRecords().length, 1);
  });
});

describe('early results (earlyEveryMs)', () => {
  for (const [name, assigner] of [
    ['sliding', sliding(100, 50)],
    ['session', session(100)],
  ] as const) {
    it(`${name}: changed open windows emit 'early' each interval, then 'final'`, () => {
      const app = new StreamApp(`early-${name}`);
      const out = app
        .stream<E>('in', { timestamp: (e) => e.ts })
        .keyBy((e) => e.k)
        .window(assigner, { earlyEveryMs: 1000 })
        .aggregate(summing((e) => e.v))
        .to('out');
      const d = new TestDriver(app, { startTime: 0 });
      const input = d.input<E>('in');
      d.advanceProcessingTime(0); // arms the interval
      input.pipe({ k: 'a', ts: 10, v: 1 });
      input.pipe({ k: 'a', ts: 20, v: 2 });
      d.advanceProcessingTime(1000);
      d.advanceProcessingTime(1000); // nothing changed: no new early results
      input.pipe({ k: 'a', ts: 30, v: 4 });
      d.advanceProcessingTime(1000);
      d.end();
      const res = d.output(out).values();
      const kinds = res.map((w) => w.kind);
      assert.ok(kinds.indexOf('final') > kinds.lastIndexOf('early'), 'finals come after earlies');
      const lastEarly = new Map<string, number>();
      const finals = new Map<string, number>();
      for (const w of res) {
        const id = `${w.window.start},${w.window.end}`;
        if (w.kind === 'early') lastEarly.set(id, w.value);
        if (w.kind === 'final') finals.set(id, w.value);
      }
      assert.ok(lastEarly.size > 0, 'early results were emitted');
      // With no input after the last early firing, finals equal the last early results.
      for (const [id, v] of finals) if (lastEarly.has(id)) assert.equal(lastEarly.get(id), v, id);
      const earlies = res.filter((w) => w.kind === 'early').map((w) => w.value);
      assert.deepEqual(earlies.slice(0, name === 'session' ? 1 : 2), name === 'session' ? [3] : [3, 3]);
    });
  }
});

describe('processing-time windows (ingestion time)', () => {
  it('windows by arrival time, closed by the processing-time clock', () => {
    const app = new StreamApp('pt');
    const out = app
      .stream<E>('in', { ingestionTime: true })
      .keyBy((e) => e.k)
      .window(tumbling(1000))
      .count()
      .to('out');
    const d = new TestDriver(app, { startTime: 0 });
    const input = d.input<E>('in');
    input.pipe({ k: 'a', ts: 999_999, v: 0 }); // event timestamps are ignored
    d.advanceProcessingTime(500);
    input.pipe({ k: 'a', ts: 0, v: 0 });
    d.advanceProcessingTime(700); // now 1200: window [0,1000) closes
    input.pipe({ k: 'a', ts: 0, v: 0 });
    assert.deepEqual(fmt(d.output(out).values()), ['final:a[0,1000)=2']);
    d.advanceProcessingTime(1000);
    assert.deepEqual(fmt(d.output(out).values()), ['final:a[0,1000)=2', 'final:a[1000,2000)=1']);
  });
});

describe('global windows and triggers', () => {
  it('count trigger fires and purges every n records per key', () => {
    const app = new StreamApp('g');
    const out = app
      .stream<E>('in', { timestamp: (e) => e.ts })
      .keyBy((e) => e.k)
      .window(globalWindow(), { trigger: countTrigger(3) })
      .aggregate(summing((e) => e.v))
      .to('out');
    const d = new TestDriver(app, { startTime: 0 });
    for (let i = 0; i < 7; i++) d.input<E>('in').pipe({ k: i % 2 ? 'x' : 'y', ts: i, v: i });
    d.end();
    const res = d.output(out).values();
    assert.deepEqual(
      res.map((w) => `${w.kind}:${w.key}=${w.value}`),
      ['final:y=6', 'final:x=9'],
    );
  });

  it('processing-time trigger gives early results before the tumbling window closes', () => {
    const app = new StreamApp('early');
    const out = app
      .stream<E>('in', { timestamp: (e) => e.ts })
      .keyBy((e) => e.k)
      .window(tumbling(1000), { trigger: processingTimeTrigger(100) })
      .count()
      .to('out');
    const d = new TestDriver(app, { startTime: 0 });
    const input = d.input<E>('in');
    input.pipe({ k: 'a', ts: 1, v: 0 });
    input.pipe({ k: 'a', ts: 2, v: 0 });
    d.advanceProcessingTime(100);
    input.pipe({ k: 'a', ts: 3, v: 0 });
    d.advanceProcessingTime(100);
    d.end();
    assert.deepEqual(
      d
        .output(out)
        .values()
        .map((w) => `${w.kind}=${w.value}`),
      ['early=2', 'early=3', 'final=3'],
    );
  });
});
