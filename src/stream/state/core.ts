/**
 * StoreCore: the engine-specific half of a store — an ordered map from composite key bytes to
 * JS values with an expiry time per entry. The typed stores in stores.ts (key-value, window,
 * session) are written once against this interface, so every engine shares their semantics
 * (retention, TTL, bounds, composite layouts) and differs only in where entries live.
 *
 * Invariants: range() yields entries in unsigned byte order of `kb`, bounds inclusive, skipping
 * entries with expiresAt ≤ now; get/put/delete see one another immediately (write-back caches
 * are read through); purge() and writeBack() are the only bulk mutations.
 * Concurrency: single-threaded, synchronous. A range iterator stays valid while the store is
 * written: it may or may not see writes made during iteration, never a torn entry.
 */
import type { KeyCodec } from './codec.js';

export interface CoreEntry<K, V> {
  /** Serialized (composite) key bytes. */
  readonly kb: Uint8Array;
  /** The typed key when the engine still has it (in-memory); undefined means decode kb. */
  readonly key: K | undefined;
  readonly value: V;
  /** Time (of the store's clock) at which the entry expires; Infinity for never. */
  readonly expiresAt: number;
}

export interface RawRow {
  readonly kb: Uint8Array;
  readonly vb: Uint8Array;
  readonly expiresAt: number;
}

export interface StoreCore<K, V> {
  readonly codec: KeyCodec<K>;
  get(key: K, now: number): V | undefined;
  put(key: K, value: V, expiresAt: number): void;
  delete(key: K): void;
  range(from: Uint8Array | undefined, to: Uint8Array | undefined, now: number): Iterable<CoreEntry<K, V>>;
  /** Removes every entry matching `pred`, calling onRemoved for each; returns how many. */
  purge(pred: (e: CoreEntry<K, V>) => boolean, onRemoved?: (e: CoreEntry<K, V>) => void): number;
  /** Makes cached writes durable in the engine (LMDB: one write transaction). */
  writeBack(): void;
  count(): number;
  /** Every entry, serialized, in key order (after writeBack). */
  exportRaw(): Iterable<RawRow>;
  importRaw(row: RawRow): void;
  clear(): void;
  close(): void;
}

/** Creates cores; an engine is one implementation of this. */
export interface CoreFactory {
  readonly kind: 'memory' | 'lmdb';
  createCore<K, V>(
    name: string,
    codec: KeyCodec<K>,
    valueSerde: import('./types.js').Serde<V>,
    metrics: import('./types.js').StoreMetrics,
    withExpiry: boolean,
    /** The store kind, so persistent engines can refuse to reopen a store as another kind. */
    kind: import('./types.js').StoreKind,
  ): StoreCore<K, V>;
  closeCores(): Promise<void> | void;
}
