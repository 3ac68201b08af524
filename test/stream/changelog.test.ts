/**
 * Store-backed state and the changelog: a task on a StoreEngine writes window panes and keyed
 * state to changelogged stores at commit; a NEW task on a fresh engine restored from those
 * changelog entries (what issue 7 reads back from `<app>-<store>-changelog`) continues exactly
 * where the committed one stopped — no window re-fired, no result lost.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  boundedOutOfOrderness,
  type ChangelogEntry,
  CollectingSink,
  createInMemoryEngine,
  StreamApp,
  StreamRecord,
  session,
  sliding,
  summing,
  Task,
  tumbling,
  type WindowAssigner,
  type Windowed,
} from '../../src/stream/index.js';

interface Ev {
  k: string;
  ts: number;
  v: number;
}

function app(assigner: WindowAssigner) {
  const a = new StreamApp('cl');
  const keyed = a
    .stream<Ev>('in', { timestamp: (e) => e.ts, watermark: boundedOutOfOrderness(3) })
    .keyBy((e) => e.k);
  keyed
    .window(assigner, { allowedLateness: 5 })
    .aggregate(summing((e) => e.v))
    .to('windows');
  keyed
    .process<string>({
      processElement(_e, ctx) {
        const seen = ctx.state<number>('seen');
        seen.set((seen.get() ?? 0) + 1);
        ctx.emit(`${ctx.key}#${seen.get()}`);
      },
    })
    .to('counts');
  return a;
}

/** The changelog "topics": all entries per store, in commit order. */
type Topics = Map<string, ChangelogEntry[]>;

function task(assigner: WindowAssigner, topics: Topics, restore: boolean) {
  const sinks = new Map<string, CollectingSink>();
  const t = new Task(app(assigner).topology(), {
    clock: () => 0,
    storeEngine: createInMemoryEngine(),
    changelog: restore ? { restore: (name) => topics.get(name) ?? [] } : {},
    sinkFactory: (name) => {
      const s = new CollectingSink(name);
      sinks.set(name, s);
      return s;
    },
  });
  return { t, sinks };
}

async function runAll(assigner: WindowAssigner, events: Ev[], cut?: number): Promise<string[]> {
  const topics: Topics = new Map();
  const committer = {
    commit(_o: unknown, _t: string, changelog: ReadonlyMap<string, readonly ChangelogEntry[]>) {
      for (const [name, entries] of changelog) topics.set(name, [...(topics.get(name) ?? []), ...entries]);
    },
  };
  const feed = (t: Task, es: Ev[]) => {
    for (const e of es) t.ingest('in', 0, [new StreamRecord(null, e, 0)]);
  };
  const out: unknown[] = [];
  const collect = (sinks: Map<string, CollectingSink>) => {
    for (const name of ['windows', 'counts'])
      out.push(...(sinks.get(name)?.committed.map((r) => r.value) ?? []));
  };
  const first = task(assigner, topics, false);
  if (cut === undefined) {
    feed(first.t, events);
    first.t.endOfInput();
    await first.t.commit(committer);
    collect(first.sinks);
  } else {
    feed(first.t, events.slice(0, cut));
    await first.t.commit(committer);
    collect(first.sinks);
    // Crash: the first task is gone; a new one on a fresh engine restores from the changelog.
    const second = task(assigner, topics, true);
    feed(second.t, events.slice(cut));
    second.t.endOfInput();
    await second.t.commit(committer);
    collect(second.sinks);
  }
  // Window results as the live set (latest non-retracted per window), process outputs as is.
  const live = new Map<string, string>();
  const rest: string[] = [];
  for (const v of out) {
    if (typeof v === 'string') {
      rest.push(v);
      continue;
    }
    const w = v as Windowed<string, number>;
    const id = `${w.key}|${w.window.start}|${w.window.end}`;
    if (w.kind === 'retract') live.delete(id);
    else live.set(id, `${id}=${w.value}`);
  }
  // …and every emission, so a window re-fired after the restore (a duplicate) is caught too.
  const all = out.map((v) => JSON.stringify(v)).sort();
  return [...live.values(), ...rest, '--', ...all].sort();
}

const eventsArb = fc
  .array(
    fc.record({
      k: fc.constantFrom('a', 'b', 'c'),
      step: fc.integer({ min: 0, max: 4 }),
      delay: fc.integer({ min: 0, max: 12 }),
      v: fc.integer({ min: 1, max: 9 }),
    }),
    { minLength: 2, maxLength: 40 },
  )
  .map((raw) => {
    let t = 10;
    return raw.map((r) => ({ k: r.k, ts: (t += r.step) > r.delay ? t - r.delay : 0, v: r.v }));
  });

describe('changelogged state', () => {
  for (const [name, assigner] of [
    ['tumbling', tumbling(10)],
    ['sliding', sliding(12, 4)],
    ['session', session(5)],
  ] as const) {
    it(`${name} windows and keyed state survive a restore from the changelog (property)`, async () => {
      await fc.assert(
        fc.asyncProperty(eventsArb, fc.nat(), async (events, c) => {
          const cut = c % (events.length + 1);
          assert.deepEqual(await runAll(assigner, events, cut), await runAll(assigner, events));
        }),
        { numRuns: 40 },
      );
    });
  }

  it('commit hands one deduplicated changelog entry per changed key to the committer', async () => {
    const { t } = task(tumbling(10), new Map(), false);
    for (let i = 0; i < 5; i++) t.ingest('in', 0, [new StreamRecord(null, { k: 'a', ts: 1, v: 1 }, 0)]);
    const res = await t.commit();
    const windowEntries = [...res.changelog].find(([n]) => n.startsWith('window'))?.[1] ?? [];
    assert.equal(windowEntries.length, 1, 'five updates of one pane, one entry');
    const counts = [...res.changelog].find(([n]) => n.includes('seen'))?.[1] ?? [];
    assert.equal(counts.length, 1);
  });
});
