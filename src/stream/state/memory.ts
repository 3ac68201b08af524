/**
 * In-memory engine: typed JS values in a Map, no serialization on get/put.
 *
 * Format: Map<mapKey, Entry> for point operations (mapKey from codec.ts: the key itself for
 * identity serdes). Order for range scans is kept by a sorted array of entries keyed by the
 * latin1 string of the key bytes; new keys wait in `pending` and are sorted and merged into
 * it at the next scan (O(p log p + n)), deletes only flip `live` and are compacted lazily, so
 * point writes never pay for order.
 * Invariants: every live entry is in the map and in sorted ∪ pending exactly once; an entry
 * object never changes key; a deleted entry is never revived (a re-put makes a new entry).
 * Concurrency: one thread. Scans iterate a captured array, rebuilt (never mutated) on merge.
 * Crash behaviour: nothing is durable; a crashed task restores from the changelog or a
 * snapshot. Values are held by reference: treat a value as immutable once put.
 */

import type { KeyCodec, MapKey } from './codec.js';
import { sortKey } from './codec.js';
import type { CoreEntry, CoreFactory, RawRow, StoreCore } from './core.js';
import { BaseEngine } from './stores.js';
import type { Serde, StoreMetrics } from './types.js';

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
  private sorted: MemEntry<K, V>[] = [];
  private pending: MemEntry<K, V>[] = [];
  private dead = 0;

  constructor(
    readonly codec: KeyCodec<K>,
    private readonly valueSerde: Serde<V>,
  ) {}

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
    this.pending.push(n);
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
    this.dead++;
  }

  private ensureSorted(): MemEntry<K, V>[] {
    if (this.pending.length > 0) {
      const add: MemEntry<K, V>[] = [];
      for (const e of this.pending) {
        if (!e.live) continue;
        if (e.kb === EMPTY) e.kb = this.codec.encode(e.key);
        e.sk = sortKey(e.kb);
        add.push(e);
      }
      add.sort((a, b) => ((a.sk as string) < (b.sk as string) ? -1 : 1));
      const old = this.sorted;
      const out: MemEntry<K, V>[] = new Array(old.length + add.length);
      let i = 0;
      let j = 0;
      let k = 0;
      while (i < old.length || j < add.length) {
        let e: MemEntry<K, V>;
        if (j >= add.length || (i < old.length && (old[i].sk as string) < (add[j].sk as string)))
          e = old[i++];
        else e = add[j++];
        if (e.live) out[k++] = e;
      }
      out.length = k;
      this.sorted = out;
      this.pending = [];
      this.dead = 0;
    } else if (this.dead > 0 && this.dead * 2 > this.sorted.length) {
      this.sorted = this.sorted.filter((e) => e.live);
      this.dead = 0;
    }
    return this.sorted;
  }

  *range(from: Uint8Array | undefined, to: Uint8Array | undefined, now: number): Iterable<CoreEntry<K, V>> {
    const arr = this.ensureSorted();
    let i = 0;
    if (from !== undefined) {
      const lo = sortKey(from);
      let hi = arr.length;
      while (i < hi) {
        const mid = (i + hi) >>> 1;
        if ((arr[mid].sk as string) < lo) i = mid + 1;
        else hi = mid;
      }
    }
    const hiKey = to === undefined ? undefined : sortKey(to);
    for (; i < arr.length; i++) {
      const e = arr[i];
      if (hiKey !== undefined && (e.sk as string) > hiKey) break;
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
    this.sorted = [];
    this.pending = [];
    this.dead = 0;
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
  ): StoreCore<K, V> {
    return new MemoryCore(codec, valueSerde);
  }
  closeCores(): void {}
}

/** An engine whose stores live in this process's heap. */
export function createInMemoryEngine(): BaseEngine {
  return new BaseEngine(new MemoryCoreFactory());
}
