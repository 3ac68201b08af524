/**
 * Keyed state for operators: the KeyedStateFactory a task hands its operators.
 *
 * HeapStateFactory keeps each named state in a Map on the heap with optional TTL measured in
 * processing time (the task's injectable clock): an entry expires ttlMs after its last write
 * and is never returned afterwards; expired entries are removed lazily on read and by purge().
 * Invariant with a TTL: the Map's iteration order is expiry order (a write moves its key to the
 * end, and expiry = clock + a fixed ttl on a non-decreasing clock), so purge() stops at the
 * first live entry and costs O(expired), not O(state). Without a TTL purge() does nothing: it
 * runs on every processing-time advance, and scanning large TTL-less states there made
 * Nexmark q18/q20 three times slower.
 * storeStateFactory adapts a StoreEngine of src/stream/state (in-memory or LMDB, optionally
 * changelogged) so the same operators run on durable stores; the factory returns the SAME map
 * for the same name within a task (a table and the joins reading it share one store).
 *
 * Concurrency: one task, synchronous.
 */
import { jsonSerde, type KeyValueStore, type Serde, type StoreEngine } from '../state/index.js';
import type { KeyedStateFactory, KeyedStateMap } from './operator.js';

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export class HeapKeyedState<K, V> implements KeyedStateMap<K, V> {
  private readonly map = new Map<K, Entry<V>>();
  constructor(
    private readonly ttlMs: number | undefined,
    private readonly clock: () => number,
  ) {}

  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.clock()) {
      this.map.delete(key);
      return undefined;
    }
    return e.value;
  }

  put(key: K, value: V): void {
    if (this.ttlMs === undefined) {
      this.map.set(key, { value, expiresAt: Number.POSITIVE_INFINITY });
      return;
    }
    // Re-inserting keeps the Map in expiry order (see the header).
    this.map.delete(key);
    this.map.set(key, { value, expiresAt: this.clock() + this.ttlMs });
  }

  delete(key: K): V | undefined {
    const v = this.get(key);
    this.map.delete(key);
    return v;
  }

  /** Removes expired entries from the front of the expiry-ordered Map; returns how many. */
  purge(): number {
    if (this.ttlMs === undefined) return 0;
    const now = this.clock();
    let n = 0;
    for (const [k, e] of this.map) {
      if (e.expiresAt > now) break;
      this.map.delete(k);
      n++;
    }
    return n;
  }

  /** Live entries (expired ones excluded). */
  entries(): Array<[K, V]> {
    const now = this.clock();
    const out: Array<[K, V]> = [];
    for (const [k, e] of this.map) if (e.expiresAt > now) out.push([k, e.value]);
    return out;
  }

  get size(): number {
    return this.entries().length;
  }

  snapshot(): Array<[K, V, number]> {
    return [...this.map].map(([k, e]) => [k, e.value, e.expiresAt]);
  }

  restore(entries: Array<[K, V, number]>): void {
    this.map.clear();
    const ordered = [...entries].sort((a, b) => a[2] - b[2]);
    for (const [k, value, expiresAt] of ordered) this.map.set(k, { value, expiresAt });
  }
}

export class HeapStateFactory implements KeyedStateFactory {
  readonly states = new Map<string, HeapKeyedState<unknown, unknown>>();
  constructor(private readonly clock: () => number) {}
  open<K, V>(name: string, options: { ttlMs?: number }): KeyedStateMap<K, V> {
    let s = this.states.get(name);
    if (s === undefined) {
      s = new HeapKeyedState(options.ttlMs, this.clock);
      this.states.set(name, s);
    }
    return s as unknown as KeyedStateMap<K, V>;
  }
  snapshot(): Record<string, Array<[unknown, unknown, number]>> {
    const out: Record<string, Array<[unknown, unknown, number]>> = {};
    for (const [name, st] of this.states) out[name] = st.snapshot();
    return out;
  }

  restore(snap: Record<string, Array<[unknown, unknown, number]>>): void {
    for (const [name, entries] of Object.entries(snap)) {
      (this.open(name, {}) as HeapKeyedState<unknown, unknown>).restore(entries);
    }
  }

  /** Purges expired entries of every state (called on processing-time advance). */
  purge(): void {
    for (const s of this.states.values()) s.purge();
  }
}

/**
 * Keyed state on a StoreEngine of src/stream/state (in-memory or LMDB, changelogged if wrapped):
 * each named state is one key-value store; TTL is the store's, on the task's clock. Serdes
 * default to JSON for keys and values.
 */
export function storeStateFactory(
  engine: StoreEngine,
  options: {
    clock: () => number;
    keySerde?: Serde<unknown>;
    valueSerde?: Serde<unknown>;
    /** Applied to each store when created (the task wraps it for the changelog and restores it). */
    prepare?: (store: KeyValueStore<unknown, unknown>, name: string) => KeyValueStore<unknown, unknown>;
  },
): KeyedStateFactory & { stores: Map<string, KeyValueStore<unknown, unknown>> } {
  const stores = new Map<string, KeyValueStore<unknown, unknown>>();
  return {
    stores,
    open<K, V>(name: string, opts: { ttlMs?: number }): KeyedStateMap<K, V> {
      let s = stores.get(name);
      if (s === undefined) {
        s = engine.keyValueStore<unknown, unknown>({
          name: name.replace(/[^A-Za-z0-9._-]/g, '_'),
          keySerde: options.keySerde ?? jsonSerde<unknown>(),
          valueSerde: options.valueSerde ?? jsonSerde<unknown>(),
          ttlMs: opts.ttlMs,
          clock: options.clock,
        });
        if (options.prepare !== undefined) s = options.prepare(s, name);
        stores.set(name, s);
      }
      return s as unknown as KeyedStateMap<K, V>;
    },
  };
}
