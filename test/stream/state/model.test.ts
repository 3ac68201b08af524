/**
 * Property tests: random operation sequences applied to every engine variant and to a plain
 * Map model must give identical reads and identical scan order (order = UTF-8 / composite key
 * bytes, computed here independently of the store's codec). For changelogging variants, the
 * changelog collected across the run must rebuild a store equal to the model.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type ChangelogEntry,
  type ChangeloggingStore,
  jsonSerde,
  type StoreEngine,
  stringSerde,
} from '../../../src/stream/state/index.js';
import { engineVariants, kvStore, sessionStore, windowStore } from './suite.js';

const RUNS = 100;
// Mostly a few keys (so gets and deletes hit), sometimes longer ones (prefixes, odd bytes).
// Op lists use size "max": fast-check's default size keeps arrays to ~10 elements.
const key = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('a', 'b', 'ab', 'a\u0000', 'é', '\uE000', '\u{1F600}') },
  {
    weight: 1,
    arbitrary: fc.string({
      minLength: 1,
      maxLength: 3,
      unit: fc.constantFrom('a', 'b', '\u0000', 'é', '\uE000', '\u{1F600}'),
    }),
  },
);
const value = fc.integer({ min: 0, max: 1000 });
const time = fc.integer({ min: -50, max: 400 });
const num = jsonSerde<number>();

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
function ordered(t: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(t) + 2n ** 63n);
  return b;
}
const byBytes = (a: Buffer, b: Buffer): number => Buffer.compare(a, b);

type KvOp =
  | { op: 'put'; k: string; v: number }
  | { op: 'del'; k: string }
  | { op: 'get'; k: string }
  | { op: 'range'; a: string | undefined; b: string | undefined }
  | { op: 'flush' }
  | { op: 'tick'; dt: number };

const kvOps = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('put' as const), k: key, v: value }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('del' as const), k: key }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('get' as const), k: key }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('range' as const),
        a: fc.option(key, { nil: undefined }),
        b: fc.option(key, { nil: undefined }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('flush' as const) }) },
    {
      weight: 3,
      arbitrary: fc.record({ op: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 12 }) }),
    },
  ),
  { maxLength: 80, size: 'max' },
) as fc.Arbitrary<KvOp[]>;

function restoreInto(target: unknown, log: ChangelogEntry[]): void {
  (target as ChangeloggingStore).restoreBatch(log);
}

for (const v of engineVariants()) {
  describe(`model check on ${v.label}`, () => {
    let engine: StoreEngine | undefined;
    const open = (): StoreEngine => {
      engine ??= v.open('model');
      return engine;
    };
    after(async () => {
      await engine?.close();
      v.dispose();
    });

    for (const ttl of [undefined, 10]) {
      it(`key-value store equals a Map${ttl === undefined ? '' : ' with TTL'}`, () => {
        let now = 0;
        const e = open();
        const s = kvStore(v, e, {
          name: `kv-${ttl}`,
          keySerde: stringSerde,
          valueSerde: num,
          ttlMs: ttl,
          clock: () => now,
        });
        const copy = kvStore(v, e, { name: `kv-copy-${ttl}`, keySerde: stringSerde, valueSerde: num });
        fc.assert(
          fc.property(kvOps, (ops) => {
            s.clear();
            s.flush();
            copy.clear();
            copy.flush();
            now = 0;
            const model = new Map<string, { v: number; exp: number }>();
            const live = (k: string): number | undefined => {
              const m = model.get(k);
              return m !== undefined && m.exp > now ? m.v : undefined;
            };
            const log: ChangelogEntry[] = [];
            for (const o of ops) {
              switch (o.op) {
                case 'put':
                  s.put(o.k, o.v);
                  model.set(o.k, { v: o.v, exp: ttl === undefined ? Number.POSITIVE_INFINITY : now + ttl });
                  break;
                case 'del':
                  assert.equal(s.delete(o.k), live(o.k));
                  model.delete(o.k);
                  break;
                case 'get':
                  assert.equal(s.get(o.k), live(o.k));
                  break;
                case 'range': {
                  const lo = o.a === undefined ? undefined : utf8(o.a);
                  const hi = o.b === undefined ? undefined : utf8(o.b);
                  const expected = [...model.keys()]
                    .filter((k) => live(k) !== undefined)
                    .filter(
                      (k) =>
                        (lo === undefined || byBytes(utf8(k), lo) >= 0) &&
                        (hi === undefined || byBytes(utf8(k), hi) <= 0),
                    )
                    .sort((x, y) => byBytes(utf8(x), utf8(y)))
                    .map((k) => [k, live(k)]);
                  assert.deepEqual(
                    [...s.range(o.a, o.b)].map((x) => [x.key, x.value]),
                    expected,
                  );
                  break;
                }
                case 'flush':
                  log.push(...s.flush());
                  break;
                case 'tick':
                  now += o.dt;
                  break;
              }
            }
            const expectedAll = [...model.keys()]
              .filter((k) => live(k) !== undefined)
              .sort((x, y) => byBytes(utf8(x), utf8(y)))
              .map((k) => [k, live(k)]);
            assert.deepEqual(
              [...s.all()].map((x) => [x.key, x.value]),
              expectedAll,
            );
            if (v.changelog && ttl === undefined) {
              log.push(...s.flush());
              restoreInto(copy, log);
              assert.deepEqual(
                [...copy.all()].map((x) => [x.key, x.value]),
                expectedAll,
              );
            }
          }),
          { numRuns: RUNS },
        );
      });
    }

    it('window store equals a Map with retention', () => {
      const e = open();
      const retentionMs = 100;
      const s = windowStore(v, e, { name: 'win', keySerde: stringSerde, valueSerde: num, retentionMs });
      const copy = windowStore(v, e, {
        name: 'win-copy',
        keySerde: stringSerde,
        valueSerde: num,
        retentionMs,
      });
      type Op =
        | { op: 'put'; k: string; t: number; v: number }
        | { op: 'rm'; k: string; t: number }
        | { op: 'fetch'; k: string; a: number; b: number }
        | { op: 'fetchAll'; a: number; b: number }
        | { op: 'flush' };
      const ops = fc.array(
        fc.oneof(
          { weight: 5, arbitrary: fc.record({ op: fc.constant('put' as const), k: key, t: time, v: value }) },
          { weight: 1, arbitrary: fc.record({ op: fc.constant('rm' as const), k: key, t: time }) },
          {
            weight: 3,
            arbitrary: fc.record({ op: fc.constant('fetch' as const), k: key, a: time, b: time }),
          },
          { weight: 1, arbitrary: fc.record({ op: fc.constant('fetchAll' as const), a: time, b: time }) },
          { weight: 1, arbitrary: fc.record({ op: fc.constant('flush' as const) }) },
        ),
        { maxLength: 80, size: 'max' },
      ) as fc.Arbitrary<Op[]>;
      fc.assert(
        fc.property(ops, (list) => {
          s.clear();
          s.flush();
          copy.clear();
          copy.flush();
          const model = new Map<string, { k: string; t: number; v: number }>();
          let observed = Number.NEGATIVE_INFINITY;
          const visible = (t: number): boolean => t >= observed - retentionMs;
          const composite = (k: string, t: number): Buffer => Buffer.concat([utf8(k), ordered(t)]);
          const log: ChangelogEntry[] = [];
          for (const o of list) {
            if (o.op === 'put') {
              observed = Math.max(observed, o.t);
              const kept = visible(o.t);
              assert.equal(s.put(o.k, o.t, o.v), kept);
              if (kept) model.set(`${o.t}|${o.k}`, { k: o.k, t: o.t, v: o.v });
            } else if (o.op === 'rm') {
              s.remove(o.k, o.t);
              model.delete(`${o.t}|${o.k}`);
            } else if (o.op === 'fetch') {
              const expected = [...model.values()]
                .filter((w) => w.k === o.k && w.t >= o.a && w.t <= o.b && visible(w.t))
                .sort((x, y) => x.t - y.t)
                .map((w) => [w.t, w.v]);
              assert.deepEqual(
                [...s.fetch(o.k, o.a, o.b)].map((x) => [x.key.start, x.value]),
                expected,
              );
            } else if (o.op === 'fetchAll') {
              const expected = [...model.values()]
                .filter((w) => w.t >= o.a && w.t <= o.b && visible(w.t))
                .sort((x, y) => byBytes(composite(x.k, x.t), composite(y.k, y.t)))
                .map((w) => [w.k, w.t, w.v]);
              assert.deepEqual(
                [...s.fetchAll(o.a, o.b)].map((x) => [x.key.key, x.key.start, x.value]),
                expected,
              );
            } else log.push(...s.flush());
          }
          const all = [...s.all()].map((x) => [x.key.key, x.key.start, x.value]);
          assert.deepEqual(
            all,
            [...model.values()]
              .filter((w) => visible(w.t))
              .sort((x, y) => byBytes(composite(x.k, x.t), composite(y.k, y.t)))
              .map((w) => [w.k, w.t, w.v]),
          );
          if (v.changelog) {
            log.push(...s.flush());
            restoreInto(copy, log);
            assert.deepEqual(
              [...copy.all()].map((x) => [x.key.key, x.key.start, x.value]),
              all,
            );
          }
        }),
        { numRuns: RUNS },
      );
    });

    it('session store equals a Map with retention', () => {
      const e = open();
      const retentionMs = 150;
      const s = sessionStore(v, e, { name: 'ses', keySerde: stringSerde, valueSerde: num, retentionMs });
      type Op =
        | { op: 'put'; k: string; t: number; len: number; v: number }
        | { op: 'rm'; k: string; t: number; len: number }
        | { op: 'find'; k: string; a: number; b: number }
        | { op: 'flush' };
      const ops = fc.array(
        fc.oneof(
          {
            weight: 5,
            arbitrary: fc.record({
              op: fc.constant('put' as const),
              k: key,
              t: time,
              len: fc.integer({ min: 0, max: 30 }),
              v: value,
            }),
          },
          {
            weight: 1,
            arbitrary: fc.record({
              op: fc.constant('rm' as const),
              k: key,
              t: time,
              len: fc.integer({ min: 0, max: 30 }),
            }),
          },
          { weight: 3, arbitrary: fc.record({ op: fc.constant('find' as const), k: key, a: time, b: time }) },
          { weight: 1, arbitrary: fc.record({ op: fc.constant('flush' as const) }) },
        ),
        { maxLength: 80, size: 'max' },
      ) as fc.Arbitrary<Op[]>;
      fc.assert(
        fc.property(ops, (list) => {
          s.clear();
          s.flush();
          const model = new Map<string, { k: string; start: number; end: number; v: number }>();
          let observed = Number.NEGATIVE_INFINITY;
          const visible = (end: number): boolean => end >= observed - retentionMs;
          for (const o of list) {
            if (o.op === 'put') {
              const end = o.t + o.len;
              observed = Math.max(observed, end);
              assert.equal(s.put({ key: o.k, start: o.t, end }, o.v), visible(end));
              if (visible(end)) model.set(`${o.t}|${end}|${o.k}`, { k: o.k, start: o.t, end, v: o.v });
            } else if (o.op === 'rm') {
              s.remove({ key: o.k, start: o.t, end: o.t + o.len });
              model.delete(`${o.t}|${o.t + o.len}|${o.k}`);
            } else if (o.op === 'find') {
              const expected = [...model.values()]
                .filter((x) => x.k === o.k && x.end >= o.a && x.start <= o.b && visible(x.end))
                .sort((x, y) => x.end - y.end || x.start - y.start)
                .map((x) => [x.start, x.end, x.v]);
              assert.deepEqual(
                s.findSessions(o.k, o.a, o.b).map((x) => [x.key.start, x.key.end, x.value]),
                expected,
              );
            } else s.flush();
          }
          const composite = (x: { k: string; start: number; end: number }): Buffer =>
            Buffer.concat([utf8(x.k), ordered(x.end), ordered(x.start)]);
          assert.deepEqual(
            [...s.all()].map((x) => [x.key.key, x.key.start, x.key.end, x.value]),
            [...model.values()]
              .filter((x) => visible(x.end))
              .sort((x, y) => byBytes(composite(x), composite(y)))
              .map((x) => [x.k, x.start, x.end, x.v]),
          );
        }),
        { numRuns: RUNS },
      );
    });
  });
}
