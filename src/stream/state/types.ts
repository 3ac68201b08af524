/**
 * State store interfaces: the contract between operators (runtime/, window/, api/) and the
 * storage engines (in-memory, LMDB), plus the changelog entry shape issue 7 writes to Kafka.
 *
 * Format: keys and values are typed through a Serde; every ordering the stores expose (range
 * scans, window and session fetches) is the unsigned lexicographic order of the SERIALIZED key
 * bytes, so every engine iterates identically. Window and session stores use composite keys:
 *   window  : keyBytes ‖ start (8 bytes: int64 big-endian, sign bit flipped, so negative times sort first)
 *   session : keyBytes ‖ end (8 bytes BE) ‖ start (8 bytes BE)
 * The same composite bytes are the changelog record key, so a compacted topic keeps exactly
 * one record per window / session.
 *
 * Invariants: reads see every earlier write of the same store (reads-your-writes, also through
 * write-back caches); range bounds are inclusive; an expired entry (TTL or window retention)
 * is never returned even before it is physically purged.
 *
 * Concurrency: a store belongs to one task on one thread; every call is synchronous (no
 * promise per record). Only lifecycle calls that touch files (snapshot to a directory,
 * restore from a stream, engine close) are async.
 *
 * Crash behaviour: the changelog topic is the source of truth. What is durable locally when is
 * per engine (see memory.ts, lmdb.ts); `flush()` is the commit point every engine honours.
 */

/** Converts a typed value to bytes and back. serialize must be deterministic. */
export interface Serde<T> {
  serialize(value: T): Uint8Array;
  deserialize(bytes: Uint8Array): T;
  /**
   * True when two values are equal under SameValueZero exactly when their serialized bytes
   * are equal (strings with UTF-8, integers). Stores may then index by the JS value itself
   * and skip serialization on the hot path.
   */
  readonly identityKey?: boolean;
  /**
   * A cheap string or number equal for two values exactly when their serialized bytes are
   * equal (JSON: the JSON text). Stores then index by it instead of by the key bytes.
   */
  mapKey?(value: T): string | number;
  /**
   * True when the value is a string and serialize is exactly its UTF-8 encoding: engines may
   * then write the string straight into their key buffer (no intermediate allocation).
   */
  readonly utf8?: boolean;
  /**
   * True when deserialize keeps no reference to its input bytes, so an engine may pass a
   * buffer it reuses (LMDB's getBinaryFast). Default false: the engine passes a copy.
   */
  readonly copiesInput?: boolean;
}

export interface KeyValue<K, V> {
  readonly key: K;
  readonly value: V;
}

/** A window of a window store: its key and start time (ms). */
export interface WindowedKey<K> {
  readonly key: K;
  readonly start: number;
}

/** A session of a session store: its key and [start, end] (ms, both inclusive). */
export interface SessionKey<K> {
  readonly key: K;
  readonly start: number;
  readonly end: number;
}

export type StoreKind = 'kv' | 'window' | 'session';

/**
 * One change of a store as the changelog topic records it. `key` is the store key bytes (the
 * composite bytes for window / session stores), `value` the serialized value or null for a
 * delete (a tombstone on the compacted topic).
 */
export interface ChangelogEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
}

/** Counters for the ops dashboard. Monotonic; plain numbers so reading them costs nothing. */
export interface StoreMetrics {
  gets: number;
  puts: number;
  deletes: number;
  rangeScans: number;
  flushes: number;
  /** Entries removed by TTL or window/session retention. */
  expired: number;
  /** Bytes written to the engine's storage (LMDB: key+value bytes per flushed entry). */
  bytesWritten: number;
  /** Bytes read from the engine's storage (LMDB: value bytes per read that missed the cache). */
  bytesRead: number;
  /** Changelog entries handed out by flush() (changelogging wrapper only). */
  changelogEntries: number;
  /** Changelog bytes (key+value) handed out by flush() (changelogging wrapper only). */
  changelogBytes: number;
  /** Entries applied by restoreBatch() (changelogging wrapper only). */
  restored: number;
}

/** Time source for TTL: processing time (Date.now) or event time (e.g. the watermark). */
export type Clock = () => number;

export interface StoreOptionsBase<K, V> {
  /** Unique within an engine (LMDB: the sub-database name). Also names the changelog topic. */
  readonly name: string;
  readonly keySerde: Serde<K>;
  readonly valueSerde: Serde<V>;
}

export interface KeyValueStoreOptions<K, V> extends StoreOptionsBase<K, V> {
  /** Entries expire this many ms (of `clock`) after their last write. Absent: never. */
  readonly ttlMs?: number;
  /** Clock for TTL. Default Date.now (processing time). */
  readonly clock?: Clock;
}

export interface WindowStoreOptions<K, V> extends StoreOptionsBase<K, V> {
  /**
   * Windows whose start is older than (greatest start seen − retentionMs) are expired: not
   * returned, new puts to them are dropped, and they are purged at flush.
   */
  readonly retentionMs: number;
}

export interface SessionStoreOptions<K, V> extends StoreOptionsBase<K, V> {
  /** Sessions whose end is older than (greatest end seen − retentionMs) are expired. */
  readonly retentionMs: number;
}

/** What every store shares: identity, lifecycle, commit, checkpoints, metrics. */
export interface StateStore {
  readonly name: string;
  readonly kind: StoreKind;
  readonly isOpen: boolean;
  readonly metrics: StoreMetrics;
  /**
   * Commit point: writes buffered in caches reach the engine, expired entries are purged.
   * Returns the changelog entries produced since the previous flush — deduplicated, one per
   * key, latest value wins — for changelogging stores; plain engines return [].
   */
  flush(): ChangelogEntry[];
  /** Flushes and closes. Calls after close throw SluiceError CLOSED. Idempotent. */
  close(): void;
  /** Number of live entries, possibly counting expired-but-unpurged ones. */
  approximateCount(): number;
  /**
   * A consistent copy of the store's content as framed chunks (see snapshot.ts for the format),
   * taken after an implicit flush. Engine independent: restore into any engine.
   */
  snapshot(): Iterable<Uint8Array>;
  /** Replaces the store's content with a snapshot's. */
  restore(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void>;
  /** Removes every entry. */
  clear(): void;
}

export interface KeyValueStore<K, V> extends StateStore {
  readonly kind: 'kv';
  readonly keySerde: Serde<K>;
  readonly valueSerde: Serde<V>;
  readonly ttlMs: number | undefined;
  /** Called at flush for each key purged by TTL (the changelogging wrapper's tombstones). */
  setExpiredListener(listener: ((key: K) => void) | undefined): void;
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  putAll(entries: Iterable<KeyValue<K, V>>): void;
  /** Deletes and returns the previous value. */
  delete(key: K): V | undefined;
  /** Entries with from ≤ key ≤ to in serialized-key order; an absent bound is open. */
  range(from?: K, to?: K): Iterable<KeyValue<K, V>>;
  all(): Iterable<KeyValue<K, V>>;
}

export interface WindowStore<K, V> extends StateStore {
  readonly kind: 'window';
  readonly keySerde: Serde<K>;
  readonly valueSerde: Serde<V>;
  readonly retentionMs: number;
  /** Returns false (and stores nothing) when the window is already beyond retention. */
  put(key: K, windowStart: number, value: V): boolean;
  /** Deletes one window. */
  remove(key: K, windowStart: number): void;
  /** The value of one window, if present and not expired. */
  fetchWindow(key: K, windowStart: number): V | undefined;
  /** Windows of `key` with from ≤ start ≤ to, ascending by start. */
  fetch(key: K, from: number, to: number): Iterable<KeyValue<WindowedKey<K>, V>>;
  /**
   * Windows of all keys with from ≤ start ≤ to, in composite-key byte order (key bytes ‖
   * start): grouped by key, ascending start within a key; a key that is a byte prefix of
   * another may sort after it. A full scan: O(entries in the store).
   */
  fetchAll(from: number, to: number): Iterable<KeyValue<WindowedKey<K>, V>>;
  all(): Iterable<KeyValue<WindowedKey<K>, V>>;
  /** Greatest window start seen; retention is measured from it. */
  readonly observedTime: number;
}

export interface SessionStore<K, V> extends StateStore {
  readonly kind: 'session';
  readonly keySerde: Serde<K>;
  readonly valueSerde: Serde<V>;
  readonly retentionMs: number;
  /** Returns false (and stores nothing) when the session already ended beyond retention. */
  put(session: SessionKey<K>, value: V): boolean;
  remove(session: SessionKey<K>): void;
  /** The value of exactly this session. */
  fetchSession(session: SessionKey<K>): V | undefined;
  /**
   * Sessions of `key` that end at or after earliestSessionEnd and start at or before
   * latestSessionStart, i.e. the candidates to merge with a new record; ascending by end.
   */
  findSessions(key: K, earliestSessionEnd: number, latestSessionStart: number): KeyValue<SessionKey<K>, V>[];
  all(): Iterable<KeyValue<SessionKey<K>, V>>;
  /** Greatest session end seen; retention is measured from it. */
  readonly observedTime: number;
}

export type AnyStore =
  | KeyValueStore<unknown, unknown>
  | WindowStore<unknown, unknown>
  | SessionStore<unknown, unknown>;

/** A store that records its changes for the changelog topic (see changelog.ts). */
export interface ChangeloggingStore {
  /** Applies changelog records (in topic order) to rebuild the store; records nothing. */
  restoreBatch(entries: Iterable<ChangelogEntry>): void;
  /** Changes recorded and not yet returned by flush(). */
  readonly pendingChanges: number;
}

/** Creates stores of one engine. A task holds one engine (LMDB: one environment). */
export interface StoreEngine {
  readonly kind: 'memory' | 'lmdb';
  keyValueStore<K, V>(options: KeyValueStoreOptions<K, V>): KeyValueStore<K, V>;
  windowStore<K, V>(options: WindowStoreOptions<K, V>): WindowStore<K, V>;
  sessionStore<K, V>(options: SessionStoreOptions<K, V>): SessionStore<K, V>;
  /** Closes every store opened through this engine, then the engine (LMDB: the environment). */
  close(): Promise<void>;
}
