/**
 * Changelogging wrapper: wraps any store and records its changes for the compacted changelog
 * topic `<app>-<store>-changelog`; restoreBatch() applies such records to rebuild a store.
 *
 * Format: each ChangelogEntry is (store key bytes, value bytes | null). Window stores use the
 * composite key keyBytes ‖ ordered start (8 bytes), session stores keyBytes ‖ ordered end ‖
 * ordered start (codec.ts) — the same bytes an LMDB store uses as its key, so one compacted
 * record per window / session survives.
 * Invariants: between two flushes the wrapper keeps at most one pending change per key, the
 * latest (Kafka Streams' caching: a key updated 1 000 times in a commit interval costs one
 * record). Values are serialized at flush, so a value must not be mutated after put without
 * being put again. Writes the inner store drops (windows beyond retention) are not recorded.
 * TTL purges of key-value stores become tombstones at the flush that purges them; window and
 * session retention is NOT logged: the topic's own retention (cleanup.policy=compact,delete)
 * removes those, as in Kafka Streams, and a restore drops records beyond retention again.
 * A key-value entry restored from the changelog starts a fresh TTL (records carry no write
 * time); snapshots keep expiry times exactly.
 * Concurrency: one thread, synchronous. Crash behaviour: pending changes live in memory only
 * until flush() returns them; the caller writes them in the same Kafka transaction as the
 * outputs and offsets (issue 7), so a crash before that commit loses them together with the
 * outputs, and the restarted task rebuilds from the changelog via restoreBatch().
 */
import { type MapKey, PlainKeyCodec, sessionBytes, windowBytes } from './codec.js';
import { readOrderedInt } from './serdes.js';
import type {
  ChangelogEntry,
  ChangeloggingStore,
  KeyValue,
  KeyValueStore,
  Serde,
  SessionKey,
  SessionStore,
  StateStore,
  StoreMetrics,
  WindowedKey,
  WindowStore,
} from './types.js';

/** The compacted topic that backs a store, as issue 7 names it. */
export function changelogTopic(applicationId: string, storeName: string): string {
  return `${applicationId}-${storeName}-changelog`;
}

interface Pending<CK, V> {
  readonly key: CK;
  readonly value: V | undefined;
}

/** Marks a pending delete in the key-value wrapper, which stores bare values. */
const TOMBSTONE: unique symbol = Symbol('tombstone');

abstract class ChangelogBase<CK, V, S extends StateStore> implements ChangeloggingStore {
  /** Latest change per map key: a Pending, or (key-value wrapper) the bare value / TOMBSTONE. */
  protected pending = new Map<MapKey, unknown>();
  protected readonly keyCodec: PlainKeyCodec<unknown>;

  constructor(
    readonly inner: S,
    keySerde: Serde<unknown>,
    readonly valueSerde: Serde<V>,
  ) {
    this.keyCodec = new PlainKeyCodec(keySerde);
  }

  get name(): string {
    return this.inner.name;
  }
  get isOpen(): boolean {
    return this.inner.isOpen;
  }
  get metrics(): StoreMetrics {
    return this.inner.metrics;
  }
  get pendingChanges(): number {
    return this.pending.size;
  }

  protected abstract mapKey(key: CK): MapKey;
  protected abstract keyBytes(key: CK): Uint8Array;
  protected abstract apply(kb: Uint8Array, value: Uint8Array | null): void;
  protected abstract allKeys(): Iterable<CK>;

  protected record(key: CK, value: V | undefined): void {
    const p: Pending<CK, V> = { key, value };
    this.pending.set(this.mapKey(key), p);
  }

  protected entryKey(_mk: MapKey, stored: unknown): Uint8Array {
    return this.keyBytes((stored as Pending<CK, V>).key);
  }

  protected entryValue(stored: unknown): V | undefined {
    return (stored as Pending<CK, V>).value;
  }

  flush(): ChangelogEntry[] {
    this.inner.flush();
    const out: ChangelogEntry[] = new Array(this.pending.size);
    const m = this.inner.metrics;
    let i = 0;
    let bytes = 0;
    for (const [mk, p] of this.pending) {
      const key = this.entryKey(mk, p);
      const v = this.entryValue(p);
      const value = v === undefined ? null : this.valueSerde.serialize(v);
      bytes += key.length + (value === null ? 0 : value.length);
      out[i++] = { key, value };
    }
    this.pending.clear();
    m.changelogEntries += out.length;
    m.changelogBytes += bytes;
    return out;
  }

  restoreBatch(entries: Iterable<ChangelogEntry>): void {
    let n = 0;
    for (const e of entries) {
      this.apply(e.key, e.value);
      n++;
    }
    this.inner.metrics.restored += n;
    this.inner.flush();
  }

  close(): void {
    this.inner.close();
  }

  approximateCount(): number {
    return this.inner.approximateCount();
  }

  snapshot(): Iterable<Uint8Array> {
    return this.inner.snapshot();
  }

  async restore(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    await this.inner.restore(chunks);
    this.pending.clear();
  }

  clear(): void {
    for (const k of [...this.allKeys()]) this.record(k, undefined);
    this.inner.clear();
  }
}

export class ChangeloggingKeyValueStore<K, V>
  extends ChangelogBase<K, V, KeyValueStore<K, V>>
  implements KeyValueStore<K, V>
{
  readonly kind = 'kv' as const;

  constructor(inner: KeyValueStore<K, V>) {
    super(inner, inner.keySerde as Serde<unknown>, inner.valueSerde);
    inner.setExpiredListener((key) => this.record(key, undefined));
  }

  get keySerde(): Serde<K> {
    return this.inner.keySerde;
  }
  get ttlMs(): number | undefined {
    return this.inner.ttlMs;
  }
  setExpiredListener(): void {
    // The wrapper owns the inner store's listener; expiries surface as tombstones.
  }

  protected mapKey(key: K): MapKey {
    return this.keyCodec.mapKey(key);
  }
  protected keyBytes(key: K): Uint8Array {
    return this.keyCodec.encode(key);
  }
  // Bare values, no Pending object per put, when the map key gives the key bytes back (the key
  // itself for identity serdes, or the latin1 string of its bytes).
  protected override record(key: K, value: V | undefined): void {
    if (!this.keyCodec.bytesFromMapKey) {
      super.record(key, value);
      return;
    }
    this.pending.set(this.keyCodec.mapKey(key), value === undefined ? TOMBSTONE : value);
  }
  protected override entryKey(mk: MapKey, stored: unknown): Uint8Array {
    return this.keyCodec.bytesFromMapKey ? this.keyCodec.bytesOfMapKey(mk) : super.entryKey(mk, stored);
  }
  protected override entryValue(stored: unknown): V | undefined {
    if (!this.keyCodec.bytesFromMapKey) return super.entryValue(stored);
    return stored === TOMBSTONE ? undefined : (stored as V);
  }
  protected apply(kb: Uint8Array, value: Uint8Array | null): void {
    const key = this.keyCodec.decode(kb) as K;
    if (value === null) this.inner.delete(key);
    else this.inner.put(key, this.valueSerde.deserialize(value));
  }
  protected *allKeys(): Iterable<K> {
    for (const e of this.inner.all()) yield e.key;
  }

  get(key: K): V | undefined {
    return this.inner.get(key);
  }
  put(key: K, value: V): void {
    this.inner.put(key, value);
    this.record(key, value);
  }
  putAll(entries: Iterable<KeyValue<K, V>>): void {
    for (const { key, value } of entries) this.put(key, value);
  }
  delete(key: K): V | undefined {
    const prev = this.inner.delete(key);
    this.record(key, undefined);
    return prev;
  }
  range(from?: K, to?: K): Iterable<KeyValue<K, V>> {
    return this.inner.range(from, to);
  }
  all(): Iterable<KeyValue<K, V>> {
    return this.inner.all();
  }
}

export class ChangeloggingWindowStore<K, V>
  extends ChangelogBase<WindowedKey<K>, V, WindowStore<K, V>>
  implements WindowStore<K, V>
{
  readonly kind = 'window' as const;

  constructor(inner: WindowStore<K, V>) {
    super(inner, inner.keySerde as Serde<unknown>, inner.valueSerde);
  }

  get keySerde(): Serde<K> {
    return this.inner.keySerde;
  }
  get retentionMs(): number {
    return this.inner.retentionMs;
  }
  get observedTime(): number {
    return this.inner.observedTime;
  }

  protected mapKey(wk: WindowedKey<K>): MapKey {
    return `${wk.start}|${this.keyCodec.mapKey(wk.key)}`;
  }
  protected keyBytes(wk: WindowedKey<K>): Uint8Array {
    return windowBytes(this.keyCodec.encode(wk.key), wk.start);
  }
  protected apply(kb: Uint8Array, value: Uint8Array | null): void {
    const n = kb.length - 8;
    const key = this.keyCodec.decode(kb.subarray(0, n)) as K;
    const start = readOrderedInt(kb, n);
    if (value === null) this.inner.remove(key, start);
    else this.inner.put(key, start, this.valueSerde.deserialize(value));
  }
  protected *allKeys(): Iterable<WindowedKey<K>> {
    for (const e of this.inner.all()) yield e.key;
  }

  put(key: K, windowStart: number, value: V): boolean {
    const kept = this.inner.put(key, windowStart, value);
    if (kept) this.record({ key, start: windowStart }, value);
    return kept;
  }
  remove(key: K, windowStart: number): void {
    this.inner.remove(key, windowStart);
    this.record({ key, start: windowStart }, undefined);
  }
  fetchWindow(key: K, windowStart: number): V | undefined {
    return this.inner.fetchWindow(key, windowStart);
  }
  fetch(key: K, from: number, to: number): Iterable<KeyValue<WindowedKey<K>, V>> {
    return this.inner.fetch(key, from, to);
  }
  fetchAll(from: number, to: number): Iterable<KeyValue<WindowedKey<K>, V>> {
    return this.inner.fetchAll(from, to);
  }
  all(): Iterable<KeyValue<WindowedKey<K>, V>> {
    return this.inner.all();
  }
}

export class ChangeloggingSessionStore<K, V>
  extends ChangelogBase<SessionKey<K>, V, SessionStore<K, V>>
  implements SessionStore<K, V>
{
  readonly kind = 'session' as const;

  constructor(inner: SessionStore<K, V>) {
    super(inner, inner.keySerde as Serde<unknown>, inner.valueSerde);
  }

  get keySerde(): Serde<K> {
    return this.inner.keySerde;
  }
  get retentionMs(): number {
    return this.inner.retentionMs;
  }
  get observedTime(): number {
    return this.inner.observedTime;
  }

  protected mapKey(s: SessionKey<K>): MapKey {
    return `${s.start}|${s.end}|${this.keyCodec.mapKey(s.key)}`;
  }
  protected keyBytes(s: SessionKey<K>): Uint8Array {
    return sessionBytes(this.keyCodec.encode(s.key), s.end, s.start);
  }
  protected apply(kb: Uint8Array, value: Uint8Array | null): void {
    const n = kb.length - 16;
    const session: SessionKey<K> = {
      key: this.keyCodec.decode(kb.subarray(0, n)) as K,
      end: readOrderedInt(kb, n),
      start: readOrderedInt(kb, n + 8),
    };
    if (value === null) this.inner.remove(session);
    else this.inner.put(session, this.valueSerde.deserialize(value));
  }
  protected *allKeys(): Iterable<SessionKey<K>> {
    for (const e of this.inner.all()) yield e.key;
  }

  put(session: SessionKey<K>, value: V): boolean {
    const kept = this.inner.put(session, value);
    if (kept) this.record({ key: session.key, start: session.start, end: session.end }, value);
    return kept;
  }
  remove(session: SessionKey<K>): void {
    this.inner.remove(session);
    this.record({ key: session.key, start: session.start, end: session.end }, undefined);
  }
  fetchSession(session: SessionKey<K>): V | undefined {
    return this.inner.fetchSession(session);
  }
  findSessions(key: K, earliestSessionEnd: number, latestSessionStart: number): KeyValue<SessionKey<K>, V>[] {
    return this.inner.findSessions(key, earliestSessionEnd, latestSessionStart);
  }
  all(): Iterable<KeyValue<SessionKey<K>, V>> {
    return this.inner.all();
  }
}

/** Wraps a store so its changes are recorded for the changelog topic. */
export function withChangelog<K, V>(store: KeyValueStore<K, V>): ChangeloggingKeyValueStore<K, V>;
export function withChangelog<K, V>(store: WindowStore<K, V>): ChangeloggingWindowStore<K, V>;
export function withChangelog<K, V>(store: SessionStore<K, V>): ChangeloggingSessionStore<K, V>;
export function withChangelog<K, V>(
  store: KeyValueStore<K, V> | WindowStore<K, V> | SessionStore<K, V>,
): ChangeloggingKeyValueStore<K, V> | ChangeloggingWindowStore<K, V> | ChangeloggingSessionStore<K, V> {
  switch (store.kind) {
    case 'kv':
      return new ChangeloggingKeyValueStore(store);
    case 'window':
      return new ChangeloggingWindowStore(store);
    case 'session':
      return new ChangeloggingSessionStore(store);
  }
}
