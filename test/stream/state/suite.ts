/**
 * The one shared state-store suite: every engine (in-memory, LMDB) and every engine wrapped in
 * the changelogging wrapper must pass it. engines.test.ts runs it once per variant.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isSluiceError } from '../../../src/common/index.js';
import {
  type ChangelogEntry,
  createInMemoryEngine,
  createLmdbEngine,
  intSerde,
  jsonSerde,
  type KeyValueStore,
  type KeyValueStoreOptions,
  restoreFromDirectory,
  type SessionStore,
  type SessionStoreOptions,
  type StoreEngine,
  snapshotToDirectory,
  stringSerde,
  type WindowStore,
  type WindowStoreOptions,
  withChangelog,
} from '../../../src/stream/state/index.js';

export interface EngineUnderTest {
  readonly label: string;
  readonly persistent: boolean;
  readonly changelog: boolean;
  /** An engine at `place`: a later call with the same place reopens the same storage. */
  open(place: string): StoreEngine;
  /** Removes everything the variant created. */
  dispose(): void;
}

/** The four variants: {memory, lmdb} × {plain, changelogging}. */
export function engineVariants(): EngineUnderTest[] {
  const out: EngineUnderTest[] = [];
  for (const changelog of [false, true]) {
    out.push({
      label: `memory${changelog ? '+changelog' : ''}`,
      persistent: false,
      changelog,
      open: () => createInMemoryEngine(),
      dispose: () => {},
    });
    let root: string | undefined;
    out.push({
      label: `lmdb${changelog ? '+changelog' : ''}`,
      persistent: true,
      changelog,
      open: (place) => {
        root ??= mkdtempSync(join(tmpdir(), 'sluice-state-'));
        return createLmdbEngine({ path: join(root, place) });
      },
      dispose: () => {
        if (root !== undefined) rmSync(root, { recursive: true, force: true });
        root = undefined;
      },
    });
  }
  return out;
}

export function kvStore<K, V>(
  v: EngineUnderTest,
  e: StoreEngine,
  o: KeyValueStoreOptions<K, V>,
): KeyValueStore<K, V> {
  const s = e.keyValueStore(o);
  return v.changelog ? withChangelog(s) : s;
}
export function windowStore<K, V>(
  v: EngineUnderTest,
  e: StoreEngine,
  o: WindowStoreOptions<K, V>,
): WindowStore<K, V> {
  const s = e.windowStore(o);
  return v.changelog ? withChangelog(s) : s;
}
export function sessionStore<K, V>(
  v: EngineUnderTest,
  e: StoreEngine,
  o: SessionStoreOptions<K, V>,
): SessionStore<K, V> {
  const s = e.sessionStore(o);
  return v.changelog ? withChangelog(s) : s;
}

const num = jsonSerde<number>();
const str = { keySerde: stringSerde, valueSerde: num };

function keysOf<K>(it: Iterable<{ key: K }>): K[] {
  return [...it].map((e) => e.key);
}

function entriesByKey(entries: ChangelogEntry[]): Map<string, string | null> {
  const m = new Map<string, string | null>();
  for (const e of entries) {
    m.set(Buffer.from(e.key).toString('hex'), e.value === null ? null : Buffer.from(e.value).toString());
  }
  return m;
}

export function stateStoreSuite(v: EngineUnderTest): void {
  describe(`state stores on ${v.label}`, () => {
    let engine: StoreEngine;
    let n = 0;
    const name = (): string => `s${n++}`;
    before(() => {
      engine = v.open('main');
    });
    after(async () => {
      await engine.close();
      v.dispose();
    });

    it('key-value: get, put, overwrite, delete, putAll, absent keys', () => {
      const s = kvStore(v, engine, { name: name(), ...str });
      assert.equal(s.get('a'), undefined);
      s.put('a', 1);
      s.put('b', 2);
      s.put('a', 3);
      assert.equal(s.get('a'), 3);
      assert.equal(s.delete('a'), 3);
      assert.equal(s.get('a'), undefined);
      assert.equal(s.delete('zz'), undefined);
      s.putAll([
        { key: 'c', value: 4 },
        { key: 'd', value: 5 },
      ]);
      assert.deepEqual(
        [...s.all()].map((e) => [e.key, e.value]),
        [
          ['b', 2],
          ['c', 4],
          ['d', 5],
        ],
      );
      s.flush();
      assert.equal(s.approximateCount(), 3);
      assert.equal(s.get('c'), 4, 'reads after flush');
      assert.ok(
        s.metrics.puts >= 5 && s.metrics.gets >= 4 && s.metrics.deletes === 2 && s.metrics.flushes === 1,
      );
      if (v.persistent)
        assert.ok(s.metrics.bytesWritten >= 6 && s.metrics.bytesRead >= 1, 'LMDB byte counters');
    });

    it('key-value: range scans follow serialized-byte order, bounds inclusive', () => {
      const s = kvStore(v, engine, { name: name(), ...str });
      // UTF-16 order puts the astral character first; UTF-8 byte order puts U+E000 first.
      const keys = ['b', 'a', 'ab', '\u{1F600}', '\uE000', 'é', 'a\u0000', 'B'];
      for (const [i, k] of keys.entries()) s.put(k, i);
      const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      assert.deepEqual(keysOf(s.all()), expected);
      assert.deepEqual(keysOf(s.range('a', 'b')), ['a', 'a\u0000', 'ab', 'b']);
      assert.deepEqual(
        keysOf(s.range('a\u0001')),
        expected.filter((k) => Buffer.compare(Buffer.from(k), Buffer.from('a\u0001')) >= 0),
      );
      assert.deepEqual(keysOf(s.range(undefined, 'B')), ['B']);
      assert.deepEqual(keysOf(s.range('b', 'a')), []);
      s.delete('ab');
      assert.deepEqual(keysOf(s.range('a', 'b')), ['a', 'a\u0000', 'b']);
      s.flush();
      s.put('aa', 9);
      assert.deepEqual(
        keysOf(s.range('a', 'b')),
        ['a', 'a\u0000', 'aa', 'b'],
        'unflushed writes are scanned',
      );
    });

    it('key-value: keys up to 1978 bytes work everywhere; longer ones are refused by LMDB at put', () => {
      const s = kvStore(v, engine, { name: name(), ...str });
      const long = 'é'.repeat(989); // 1978 bytes
      s.put(long, 1);
      s.flush();
      assert.equal(s.get(long), 1);
      const tooLong = `${long}x`;
      if (v.label.startsWith('lmdb')) {
        assert.throws(
          () => s.put(tooLong, 2),
          (e) => isSluiceError(e, 'INVALID_ARGUMENT'),
        );
        assert.throws(
          () => s.put('', 2),
          (e) => isSluiceError(e, 'INVALID_ARGUMENT'),
        );
      } else {
        s.put(tooLong, 2);
        assert.equal(s.get(tooLong), 2);
      }
      s.put('after', 3);
      assert.deepEqual(s.flush().length, v.changelog ? (v.label.startsWith('lmdb') ? 1 : 2) : 0);
      assert.equal(s.get('after'), 3);
    });

    it('key-value: a scan survives writes made while it is suspended', () => {
      const s = kvStore(v, engine, { name: name(), ...str });
      const originals: string[] = [];
      for (let i = 0; i < 1500; i++) {
        const k = `k${String(i).padStart(5, '0')}`;
        originals.push(k);
        s.put(k, i);
      }
      const seen: string[] = [];
      for (const e of s.range()) {
        seen.push(e.key);
        if (e.key.endsWith('-new')) continue;
        s.delete(e.key);
        s.put(`${e.key}-new`, 1); // ahead of the cursor: may or may not be seen
        s.put(`a${e.key}`, 2); // behind the cursor
        if (seen.length % 300 === 0) s.flush();
      }
      assert.deepEqual(
        seen.filter((k) => !k.endsWith('-new')),
        originals,
      );
      assert.equal(new Set(seen).size, seen.length);
      assert.equal([...s.range('k', 'l')].filter((e) => !e.key.endsWith('-new')).length, 0);
      assert.equal([...s.range('a', 'b')].length, 1500);
    });

    it('key-value: JSON keys (objects) — equal by JSON text, ordered by its UTF-8 bytes, changelogged', () => {
      type Key = { c: string; n: number };
      const o = { keySerde: jsonSerde<Key>(), valueSerde: num };
      const s = kvStore(v, engine, { name: name(), ...o });
      s.put({ c: 'b', n: 1 }, 1);
      s.put({ c: 'a', n: 2 }, 2);
      s.put({ c: 'a', n: 10 }, 3);
      s.put({ c: 'b', n: 1 }, 4); // same key, a different object
      assert.equal(s.get({ c: 'b', n: 1 }), 4);
      assert.equal(s.delete({ c: 'a', n: 2 }), 2);
      const expected = [
        { c: 'a', n: 10 },
        { c: 'b', n: 1 },
      ];
      assert.deepEqual(keysOf(s.all()), expected);
      const log = s.flush();
      if (v.changelog) {
        assert.deepEqual(
          entriesByKey(log),
          new Map([
            [Buffer.from('{"c":"b","n":1}').toString('hex'), '4'],
            [Buffer.from('{"c":"a","n":2}').toString('hex'), null],
            [Buffer.from('{"c":"a","n":10}').toString('hex'), '3'],
          ]),
        );
        const copy = kvStore(v, engine, { name: name(), ...o });
        (copy as unknown as { restoreBatch(e: ChangelogEntry[]): void }).restoreBatch(log);
        assert.deepEqual([...copy.all()], [...s.all()]);
      }
    });

    it('key-value: integer keys scan in numeric order, negatives first', () => {
      const s = kvStore(v, engine, { name: name(), keySerde: intSerde, valueSerde: stringSerde });
      for (const k of [5, -3, 0, 1_000_000_000_000, -1_000_000_000_000, 2]) s.put(k, `v${k}`);
      assert.deepEqual(keysOf(s.all()), [-1_000_000_000_000, -3, 0, 2, 5, 1_000_000_000_000]);
      assert.deepEqual(keysOf(s.range(-3, 2)), [-3, 0, 2]);
      assert.equal(s.get(-3), 'v-3');
    });

    it('window store: fetch by key and time range, prefix keys kept apart, fetchAll, remove', () => {
      const s = windowStore(v, engine, { name: name(), ...str, retentionMs: 1_000_000 });
      s.put('k', 100, 1);
      s.put('k', 0, 2);
      s.put('k', 200, 3);
      s.put('kk', 100, 4);
      s.put('k\u0000\u0000', 150, 5);
      s.put('j', 100, 6);
      s.put('k', 100, 7);
      const f = [...s.fetch('k', 0, 200)].map((e) => [e.key.key, e.key.start, e.value]);
      assert.deepEqual(f, [
        ['k', 0, 2],
        ['k', 100, 7],
        ['k', 200, 3],
      ]);
      assert.deepEqual(
        [...s.fetch('k', 50, 150)].map((e) => e.key.start),
        [100],
      );
      assert.deepEqual([...s.fetch('k', 201, 300)], []);
      assert.equal(s.fetchWindow('k', 100), 7);
      assert.equal(s.fetchWindow('k', 101), undefined);
      // Composite byte order: 'k' ‖ start begins 'k' 0x80…, so 'k\0\0' and 'kk' sort before it.
      const all = [...s.fetchAll(100, 150)].map((e) => [e.key.key, e.key.start]);
      assert.deepEqual(all, [
        ['j', 100],
        ['k\u0000\u0000', 150],
        ['kk', 100],
        ['k', 100],
      ]);
      s.remove('k', 100);
      assert.deepEqual(
        [...s.fetch('k', 0, 200)].map((e) => e.key.start),
        [0, 200],
      );
      assert.equal(s.observedTime, 200);
      s.flush();
      assert.equal(s.approximateCount(), 5);
    });

    it('window store: retention hides, drops and purges old windows', () => {
      const s = windowStore(v, engine, { name: name(), ...str, retentionMs: 100 });
      assert.equal(s.put('a', 0, 1), true);
      assert.equal(s.put('a', 60, 2), true);
      assert.equal(s.put('b', 10, 3), true);
      assert.equal(s.put('a', 150, 4), true); // observed 150 → cutoff 50
      assert.deepEqual(
        [...s.fetch('a', 0, 1000)].map((e) => e.key.start),
        [60, 150],
      );
      assert.equal(s.fetchWindow('b', 10), undefined);
      assert.equal(s.put('b', 20, 5), false, 'a put beyond retention is dropped');
      assert.deepEqual(
        [...s.all()].map((e) => [e.key.key, e.key.start]),
        [
          ['a', 60],
          ['a', 150],
        ],
      );
      s.flush();
      assert.equal(s.approximateCount(), 2, 'expired windows purged at flush');
      assert.ok(s.metrics.expired >= 3);
    });

    it('session store: findSessions returns merge candidates, remove, fetchSession, retention', () => {
      const s = sessionStore(v, engine, { name: name(), ...str, retentionMs: 1000 });
      s.put({ key: 'u', start: 0, end: 10 }, 1);
      s.put({ key: 'u', start: 20, end: 30 }, 2);
      s.put({ key: 'u', start: 100, end: 130 }, 3);
      s.put({ key: 'uu', start: 25, end: 25 }, 4);
      s.put({ key: 'v', start: 5, end: 40 }, 5);
      // A record at t=25 with gap 10 merges with sessions ending ≥ 15 and starting ≤ 35.
      const c = s.findSessions('u', 15, 35).map((e) => [e.key.start, e.key.end, e.value]);
      assert.deepEqual(c, [[20, 30, 2]]);
      assert.deepEqual(
        s.findSessions('u', 0, 200).map((e) => e.key.end),
        [10, 30, 130],
        'ascending by end',
      );
      assert.deepEqual(s.findSessions('u', 131, 500), []);
      assert.equal(s.fetchSession({ key: 'u', start: 20, end: 30 }), 2);
      s.remove({ key: 'u', start: 20, end: 30 });
      assert.equal(s.fetchSession({ key: 'u', start: 20, end: 30 }), undefined);
      s.put({ key: 'u', start: 0, end: 35 }, 6); // merged session replaces its parts
      s.remove({ key: 'u', start: 0, end: 10 });
      assert.deepEqual(
        s.findSessions('u', 0, 200).map((e) => [e.key.start, e.key.end, e.value]),
        [
          [0, 35, 6],
          [100, 130, 3],
        ],
      );
      assert.throws(
        () => s.put({ key: 'u', start: 9, end: 3 }, 1),
        (e) => isSluiceError(e, 'INVALID_ARGUMENT'),
      );
      s.put({ key: 'w', start: 2000, end: 2100 }, 7); // observed 2100 → cutoff 1100
      assert.deepEqual(s.findSessions('u', 0, 5000), []);
      assert.deepEqual(
        [...s.all()].map((e) => e.key.key),
        ['w'],
      );
      assert.equal(s.put({ key: 'u', start: 0, end: 1000 }, 8), false);
      s.flush();
      assert.equal(s.approximateCount(), 1);
    });

    it('TTL: entries expire ttl after their last write on the given clock; flush purges them', () => {
      let now = 1000;
      const s = kvStore(v, engine, { name: name(), ...str, ttlMs: 100, clock: () => now });
      s.put('a', 1);
      s.put('b', 2);
      s.flush();
      now = 1050;
      s.put('b', 3); // refreshed: expires at 1150
      now = 1099;
      assert.equal(s.get('a'), 1);
      now = 1100;
      assert.equal(s.get('a'), undefined);
      assert.equal(s.get('b'), 3);
      assert.deepEqual(keysOf(s.all()), ['b']);
      const entries = s.flush();
      assert.equal(s.approximateCount(), 1, 'purged at flush');
      if (v.changelog) {
        // b's update and a's expiry tombstone.
        assert.deepEqual(
          entriesByKey(entries),
          new Map([
            [Buffer.from('b').toString('hex'), '3'],
            [Buffer.from('a').toString('hex'), null],
          ]),
        );
      } else assert.deepEqual(entries, []);
      now = 1150;
      assert.equal(s.get('b'), undefined);
      s.put('c', 4);
      now = 1250;
      assert.equal(s.get('c'), undefined, 'expiry applies to unflushed writes too');
      assert.ok(s.metrics.expired >= 1);
    });

    it('flush: changelog entries are deduplicated per key, latest value or tombstone wins', () => {
      const s = kvStore(v, engine, { name: name(), ...str });
      for (let i = 0; i < 100; i++) s.put(`k${i % 3}`, i);
      s.delete('k2');
      s.put('x', 1);
      s.delete('x');
      const w = windowStore(v, engine, { name: name(), ...str, retentionMs: 10_000 });
      w.put('a', 0, 1);
      w.put('a', 0, 2);
      w.put('a', 100, 3);
      const ss = sessionStore(v, engine, { name: name(), ...str, retentionMs: 10_000 });
      ss.put({ key: 'a', start: 0, end: 5 }, 1);
      ss.remove({ key: 'a', start: 0, end: 5 });
      const kvEntries = s.flush();
      const wEntries = w.flush();
      const sEntries = ss.flush();
      if (!v.changelog) {
        assert.deepEqual([kvEntries, wEntries, sEntries], [[], [], []]);
        return;
      }
      const hex = (t: string): string => Buffer.from(t).toString('hex');
      assert.deepEqual(
        entriesByKey(kvEntries),
        new Map([
          [hex('k0'), '99'],
          [hex('k1'), '97'],
          [hex('k2'), null],
          [hex('x'), null],
        ]),
      );
      assert.equal(kvEntries.length, 4);
      // Composite keys: key bytes ‖ start as int64 big-endian with the sign bit flipped.
      const ts = (t: number): string => (BigInt(t) + 2n ** 63n).toString(16).padStart(16, '0');
      assert.deepEqual(
        entriesByKey(wEntries),
        new Map([
          [hex('a') + ts(0), '2'],
          [hex('a') + ts(100), '3'],
        ]),
      );
      assert.deepEqual(entriesByKey(sEntries), new Map([[hex('a') + ts(5) + ts(0), null]]));
      assert.deepEqual(s.flush(), [], 'nothing new since the last flush');
      assert.equal(s.metrics.changelogEntries, 4);
    });

    it('clear: removes everything; a changelogging store logs a tombstone per cleared entry', () => {
      const s = kvStore(v, engine, { name: name(), ...str });
      s.put('a', 1);
      s.put('b', 2);
      s.flush();
      s.put('c', 3);
      s.clear();
      assert.deepEqual([...s.all()], []);
      assert.equal(s.get('a'), undefined);
      const entries = s.flush();
      assert.equal(s.approximateCount(), 0);
      if (v.changelog) {
        const hex = (t: string): string => Buffer.from(t).toString('hex');
        assert.deepEqual(
          entriesByKey(entries),
          new Map([
            [hex('a'), null],
            [hex('b'), null],
            [hex('c'), null],
          ]),
        );
      } else assert.deepEqual(entries, []);
      s.put('d', 4);
      assert.deepEqual(keysOf(s.all()), ['d']);
    });

    it('snapshot and restore round-trip through a directory and a byte stream, across engines', async () => {
      const kv = kvStore(v, engine, { name: name(), keySerde: stringSerde, valueSerde: jsonSerde<object>() });
      for (let i = 0; i < 3000; i++) kv.put(`key-${i}`, { i, pad: 'x'.repeat(i % 50) });
      const w = windowStore(v, engine, { name: name(), ...str, retentionMs: 500 });
      for (let i = 0; i < 50; i++) w.put(`w${i % 7}`, i * 10, i);
      const ss = sessionStore(v, engine, { name: name(), ...str, retentionMs: 500 });
      for (let i = 0; i < 20; i++) ss.put({ key: `s${i % 3}`, start: i * 10, end: i * 10 + 5 }, i);
      const dump = <T>(it: Iterable<T>): string => JSON.stringify([...it]);
      const before = [dump(kv.all()), dump(w.all()), dump(ss.all())];
      const dir = mkdtempSync(join(tmpdir(), 'sluice-snap-'));
      try {
        await snapshotToDirectory(dir, [kv, w, ss]);
        kv.put('key-1', { changed: true });
        kv.put('extra', {});
        w.put('w0', 480, 99);
        ss.remove({ key: 's0', start: 0, end: 5 });
        await restoreFromDirectory(dir, [kv, w, ss]);
        assert.deepEqual([dump(kv.all()), dump(w.all()), dump(ss.all())], before);
        assert.equal(w.observedTime, 490);
        // Into a fresh in-memory engine, as a byte stream.
        const other = createInMemoryEngine();
        const kv2 = other.keyValueStore({
          name: kv.name,
          keySerde: stringSerde,
          valueSerde: jsonSerde<object>(),
        });
        await kv2.restore(kv.snapshot());
        assert.equal(dump(kv2.all()), before[0]);
        // A truncated stream is rejected and leaves the store empty, not mixed.
        const chunks = [...kv.snapshot()];
        const last = chunks[chunks.length - 1];
        chunks[chunks.length - 1] = last.subarray(0, last.length - 3);
        await assert.rejects(kv2.restore(chunks), (e) => isSluiceError(e, 'CORRUPT_RECORD'));
        assert.equal([...kv2.all()].length, 0);
        await assert.rejects(kv2.restore(w.snapshot()), (e) => isSluiceError(e, 'CORRUPT_RECORD'));
        await other.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('TTL survives a snapshot round trip', async () => {
      let now = 0;
      const s = kvStore(v, engine, { name: name(), ...str, ttlMs: 100, clock: () => now });
      s.put('a', 1);
      now = 50;
      s.put('b', 2);
      const t = kvStore(v, engine, { name: name(), ...str, ttlMs: 100, clock: () => now });
      await t.restore(s.snapshot());
      now = 120;
      assert.deepEqual(keysOf(t.all()), ['b']);
    });

    if (v.changelog) {
      it('restoreBatch of the changelog rebuilds an equal store (kv, window, session)', () => {
        const kv = kvStore(v, engine, { name: name(), ...str });
        const w = windowStore(v, engine, { name: name(), ...str, retentionMs: 300 });
        const ss = sessionStore(v, engine, { name: name(), ...str, retentionMs: 300 });
        const log: ChangelogEntry[][] = [[], [], []];
        for (let i = 0; i < 2000; i++) {
          const k = `k${(i * 7919) % 97}`;
          if (i % 5 === 0) kv.delete(k);
          else kv.put(k, i);
          if (i % 11 === 0) w.remove(k, (i % 50) * 10);
          else w.put(k, (i % 50) * 10 + Math.floor(i / 100) * 10, i);
          if (i % 13 === 0) ss.remove({ key: k, start: i - 7, end: i });
          else ss.put({ key: k, start: i - (i % 7), end: i }, i);
          if (i % 300 === 0) {
            log[0].push(...kv.flush());
            log[1].push(...w.flush());
            log[2].push(...ss.flush());
          }
        }
        log[0].push(...kv.flush());
        log[1].push(...w.flush());
        log[2].push(...ss.flush());
        const kv2 = kvStore(v, engine, { name: name(), ...str });
        const w2 = windowStore(v, engine, { name: name(), ...str, retentionMs: 300 });
        const ss2 = sessionStore(v, engine, { name: name(), ...str, retentionMs: 300 });
        const restore = (s: unknown, e: ChangelogEntry[]): void =>
          (s as { restoreBatch(e: ChangelogEntry[]): void }).restoreBatch(e);
        // In batches, as a consumer would deliver them.
        for (let i = 0; i < log[0].length; i += 100) restore(kv2, log[0].slice(i, i + 100));
        restore(w2, log[1]);
        restore(ss2, log[2]);
        const dump = <T>(it: Iterable<T>): string => JSON.stringify([...it]);
        assert.ok([...kv.all()].length > 10);
        assert.equal(dump(kv2.all()), dump(kv.all()));
        assert.equal(dump(w2.all()), dump(w.all()));
        assert.equal(dump(ss2.all()), dump(ss.all()));
        assert.equal(w2.observedTime, w.observedTime);
        assert.deepEqual(kv2.flush(), [], 'restoring records nothing new');
        assert.equal(kv2.metrics.restored, log[0].length);
      });
    }

    it('close: later calls throw CLOSED; reopening finds persisted data on persistent engines', async () => {
      const place = `reopen-${n++}`;
      let e = v.open(place);
      let kv = kvStore(v, e, { name: 'kv', ...str });
      let w = windowStore(v, e, { name: 'w', ...str, retentionMs: 100 });
      kv.put('a', 1);
      kv.put('b', 2);
      kv.flush();
      kv.put('c', 3); // written back by close
      w.put('x', 500, 1);
      w.put('x', 450, 2);
      kv.close();
      kv.close();
      assert.throws(
        () => kv.get('a'),
        (err) => isSluiceError(err, 'CLOSED'),
      );
      await e.close();
      e = v.open(place);
      kv = kvStore(v, e, { name: 'kv', ...str });
      w = windowStore(v, e, { name: 'w', ...str, retentionMs: 100 });
      if (v.persistent) {
        assert.deepEqual(
          [...kv.all()].map((x) => [x.key, x.value]),
          [
            ['a', 1],
            ['b', 2],
            ['c', 3],
          ],
        );
        assert.equal(w.observedTime, 500, 'observed time recovered from stored windows');
        assert.equal(w.put('x', 350, 3), false, 'retention still applies after reopen');
      } else {
        assert.deepEqual([...kv.all()], []);
      }
      assert.throws(
        () => e.keyValueStore({ name: 'kv', ...str }),
        (err) => isSluiceError(err, 'ALREADY_EXISTS'),
      );
      assert.throws(
        () => e.keyValueStore({ name: '__sluice-x', ...str }),
        (err) => isSluiceError(err, 'INVALID_ARGUMENT'),
      );
      kv.close();
      w.close();
      if (v.persistent) {
        // The same names under another layout are refused, not misread.
        assert.throws(
          () => e.sessionStore({ name: 'w', ...str, retentionMs: 100 }),
          (err) => isSluiceError(err, 'INVALID_CONFIG'),
        );
        assert.throws(
          () => e.keyValueStore({ name: 'kv', ...str, ttlMs: 10 }),
          (err) => isSluiceError(err, 'INVALID_CONFIG'),
        );
      }
      await e.close();
    });
  });
}
