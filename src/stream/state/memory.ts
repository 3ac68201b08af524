/**
 * In-memory engine: typed JS values in a Map, no serialization on get/put.
 *
 * Format: Map<mapKey, Entry> for point operations (mapKey from codec.ts: the key itself for
 * identity serdes). Order for range scans is a SortedIndex (sorted.ts) keyed by the latin1
 * string of the key bytes, built at the first scan (a store never scanned never computes key
 * bytes). After that, new keys wait in `pending` without their bytes and enter the index
 * at the next scan — one by one (O(log n) each) when few, by one sorted merge when many —
 * so point writes never pay for order and a scan after p new keys costs O(p log n), not O(n)
 * (a session store scans after nearly every put). Deletes only flip `live`; dead entries
 * are compacted once they are half the index.
 * Invariants: every live entry is in the map and, once scanned, in index ∪ pending exactly
 * once; an entry object never changes key; a deleted entry is never revived (a re-put makes a
 * new entry).
 * Concurrency: one thread. Scans survive writes made while they are suspended (sorted.ts).
 * Crash behaviour: nothing is durable; a crashed task restores from the changelog or a
 * snapshot. Values are held by reference: treat a value as immutable once put.
 */

import type { KeyCodec, MapKey } from './codec.js';
import { sortKey } from './codec.js';
import type { CoreEntry, CoreFactory, RawRow, StoreCore } from './core.js';
import { SortedIndex } from './sorted.js';
import { BaseEngine } from './stores.js';
import type { Serde, StoreKind, StoreMetrics } from './types.js';

interface MemEntry<K, V> {
  readonly key: K;
  kb: Uint8Array;
  sk: string | null;
  value: V;
  expiresAt: number;
  live: boolean;
}

const EMPTY = new Uint8Array(0);

export class MemoryCore<K, V> implements StoreCore<K, V> {
  private map = new Map<MapKey, MemEntry<K, V>>();
  private index = new SortedIndex<MemEntry<K, V>>();
  /** New entries not yet in the index (no key bytes computed yet). */
  private pending: MemEntry<K, V>[] = [];
  /** Dead entries still in the index. */
  private dead = 0;
  /** Whether the store was ever scanned; until then nothing is indexed or queued. */
  private scanned = false;

  constructor(
    readonly codec: KeyCodec<K>,
    private readonly valueSerde: Serde<V>,
  ) {}

  /** The entry for key, expired or not (LMDB's overlay must tell "absent" from "expired"). */
  entryFor(key: K): CoreEntry<K, V> | undefined {
    return this.map.get(this.codec.mapKey(key));
  }

  /** Every entry, unordered. */
  values(): Iterable<CoreEntry<K, V>> {
    return this.map.values();
  }

  get(key: K, now: number): V | undefined {
    const e = this.map.get(this.codec.mapKey(key));
    if (e === undefined || e.expiresAt <= now) return undefined;
    return e.value;
  }

  put(key: K, value: V, expiresAt: number): void {
    const mk = this.codec.mapKey(key);
    const e = this.map.get(mk);
    if (e !== undefined) {
      e.value = value;
      e.expiresAt = expiresAt;
      return;
    }
    const n: MemEntry<K, V> = { key, kb: EMPTY, sk: null, value, expiresAt, live: true };
    this.map.set(mk, n);
    if (!this.scanned) return; // the first scan indexes the whole map at once
    this.pending.push(n);
    // Between scans, deleted keys would otherwise pile up here.
    if (this.pending.length > 2 * this.map.size + 1024) this.pending = this.pending.filter((e) => e.live);
  }

  delete(key: K): void {
    const mk = this.codec.mapKey(key);
    const e = this.map.get(mk);
    if (e === undefined) return;
    this.map.delete(mk);
    this.kill(e);
  }

  private kill(e: MemEntry<K, V>): void {
    e.live = false;
    if (e.sk !== null) this.dead++;
  }

  /** Moves pending entries into the index: one by one when few, by a sorted merge when many. */
  private ensureIndexed(): void {
    if (!this.scanned) {
      this.scanned = true;
      this.pending = [...this.map.values()];
    }
    if (this.pending.length > 0) {
      const add: MemEntry<K, V>[] = [];
      for (const e of this.pending) {
        if (!e.live) continue;
        if (e.kb === EMPTY) e.kb = this.codec.encode(e.key);
        e.sk = sortKey(e.kb);
        add.push(e);
      }
      this.pending = [];
      if (add.length * 4 > this.index.size) {
        add.sort((a, b) => ((a.sk as string) < (b.sk as string) ? -1 : 1));
        const out: MemEntry<K, V>[] = [];
        const old = this.index.entries()[Symbol.iterator]();
        let o = old.next();
        let j = 0;
        while (!o.done || j < add.length) {
          let e: MemEntry<K, V>;
          if (j >= add.length || (!o.done && (o.value.sk as string) < (add[j].sk as string))) {
            e = o.value as MemEntry<K, V>;
            o = old.next();
          } else e = add[j++];
          if (e.live) out.push(e);
        }
        this.index.rebuild(out);
        this.dead = 0;
      } else {
        for (const e of add) this.index.insert(e);
      }
    }
    if (this.dead > 0 && this.dead * 2 > this.index.size) {
      this.index.compact();
      this.dead = 0;
    }
  }

  *range(from: Uint8Array | undefined, to: Uint8Array | undefined, now: number): Iterable<CoreEntry<K, V>> {
    this.ensureIndexed();
    const lo = from === undefined ? undefined : sortKey(from);
    const hi = to === undefined ? undefined : sortKey(to);
    for (const e of this.index.range(lo, hi)) {
      if (!e.live || e.expiresAt <= now) continue;
      yield e;
    }
  }

  purge(pred: (e: CoreEntry<K, V>) => boolean, onRemoved?: (e: CoreEntry<K, V>) => void): number {
    let n = 0;
    const removed: MemEntry<K, V>[] = [];
    for (const [mk, e] of this.map) {
      if (e.kb === EMPTY) e.kb = this.codec.encode(e.key);
      if (!pred(e)) continue;
      this.map.delete(mk);
      this.kill(e);
      removed.push(e);
      n++;
    }
    if (onRemoved !== undefined) for (const e of removed) onRemoved(e);
    return n;
  }

  writeBack(): void {}

  count(): number {
    return this.map.size;
  }

  *exportRaw(): Iterable<RawRow> {
    for (const e of this.range(undefined, undefined, Number.NEGATIVE_INFINITY)) {
      yield { kb: e.kb, vb: this.valueSerde.serialize(e.value), expiresAt: e.expiresAt };
    }
  }

  importRaw(row: RawRow): void {
    this.put(this.codec.decode(row.kb), this.valueSerde.deserialize(row.vb), row.expiresAt);
  }

  clear(): void {
    for (const e of this.map.values()) e.live = false;
    this.map.clear();
    this.index.clear();
    this.pending = [];
    this.dead = 0;
    this.scanned = false;
  }

  close(): void {}
}

export class MemoryCoreFactory implements CoreFactory {
  readonly kind = 'memory' as const;
  createCore<K, V>(
    _name: string,
    codec: KeyCodec<K>,
    valueSerde: Serde<V>,
    _metrics: StoreMetrics,
    _withExpiry: boolean,
    _kind: StoreKind,
  ): StoreCore<K, V> {
    return new MemoryCore(codec, valueSerde);
  }
  closeCores(): void {}
}

/** An engine whose stores live in this process's heap. */
export function createInMemoryEngine(): BaseEngine {
  return new BaseEngine(new MemoryCoreFactory());
}
