/**
 * The typed stores — key-value, window, session — written once over a StoreCore, and the
 * engine that creates them. Engines (memory.ts, lmdb.ts) only supply cores.
 *
 * Format: window and session stores use the composite key layouts of codec.ts; a window fetch
 * is one core range [key ‖ from, key ‖ to] filtered to keys of exactly len(key)+8 bytes (a
 * longer key sharing the prefix can fall inside the byte range and is skipped).
 * Invariants: retention — the store's observed time is the greatest window start (session
 * end) ever put; entries older than observed − retention are invisible at once, puts to them
 * are dropped (counted in metrics.expired) and they are purged at flush whenever the cutoff
 * has advanced by retention/2 since the last purge, so purging costs O(n) per half retention
 * period, not per commit. TTL — an entry expires at (clock at its last put) + ttl; reads hide
 * it immediately, flush purges at most every ttl/2 and reports each purged key to the expiry
 * listener (the changelogging wrapper turns them into tombstones).
 * Concurrency: one thread; all calls synchronous except restore().
 * Crash behaviour: per engine (see memory.ts, lmdb.ts).
 */
import { SluiceError } from '../../common/index.js';
import {
  checkTime,
  MAX_TIME,
  MIN_TIME,
  PlainKeyCodec,
  SessionKeyCodec,
  sessionBytes,
  WindowKeyCodec,
  windowBytes,
} from './codec.js';
import type { CoreEntry, CoreFactory, StoreCore } from './core.js';
import { newStoreMetrics } from './metrics.js';
import { readOrderedInt } from './serdes.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot.js';
import type {
  ChangelogEntry,
  Clock,
  KeyValue,
  KeyValueStore,
  KeyValueStoreOptions,
  Serde,
  SessionKey,
  SessionStore,
  SessionStoreOptions,
  StoreEngine,
  StoreKind,
  StoreMetrics,
  WindowedKey,
  WindowStore,
  WindowStoreOptions,
} from './types.js';

const NO_EXPIRY = Number.POSITIVE_INFINITY;
/** Store names engines keep for themselves (LMDB's layout metadata). */
export const RESERVED_PREFIX = '__sluice';
const NEVER = Number.NEGATIVE_INFINITY;

function clampTime(t: number): number {
  return t < MIN_TIME ? MIN_TIME : t > MAX_TIME ? MAX_TIME : Math.floor(t);
}

abstract class BaseStore<CK, V> {
  abstract readonly kind: StoreKind;
  readonly metrics: StoreMetrics;
  private open = true;

  constructor(
    readonly name: string,
    protected readonly core: StoreCore<CK, V>,
    metrics: StoreMetrics,
    private readonly onClose: () => void,
  ) {
    this.metrics = metrics;
  }

  get isOpen(): boolean {
    return this.open;
  }

  protected check(): void {
    if (!this.open) throw new SluiceError('CLOSED', `state store ${this.name} is closed`);
  }

  protected abstract purgeExpired(): void;
  /** Recomputes derived state (observed time) after the core changed in bulk. */
  protected afterBulkLoad(): void {}

  flush(): ChangelogEntry[] {
    this.check();
    this.metrics.flushes++;
    this.purgeExpired();
    this.core.writeBack();
    return [];
  }

  close(): void {
    if (!this.open) return;
    this.core.writeBack();
    this.core.close();
    this.open = false;
    this.onClose();
  }

  approximateCount(): number {
    this.check();
    return this.core.count();
  }

  snapshot(): Iterable<Uint8Array> {
    this.check();
    this.flush();
    return encodeSnapshot(this.kind, this.core.exportRaw());
  }

  async restore(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    this.check();
    this.clear();
    try {
      await decodeSnapshot(this.kind, chunks, (row) => this.core.importRaw(row));
    } catch (err) {
      this.clear();
      throw err;
    }
    this.core.writeBack();
    this.afterBulkLoad();
  }

  clear(): void {
    this.check();
    this.core.clear();
    this.afterBulkLoad();
  }
}

export class KeyValueStoreImpl<K, V> extends BaseStore<K, V> implements KeyValueStore<K, V> {
  readonly kind = 'kv' as const;
  readonly ttlMs: number | undefined;
  private readonly clock: Clock;
  private nextPurge = NEVER;
  private expiredListener: ((key: K) => void) | undefined;

  constructor(
    core: StoreCore<K, V>,
    metrics: StoreMetrics,
    readonly keySerde: Serde<K>,
    readonly valueSerde: Serde<V>,
    options: KeyValueStoreOptions<K, V>,
    onClose: () => void,
  ) {
    super(options.name, core, metrics, onClose);
    if (options.ttlMs !== undefined && !(options.ttlMs > 0)) {
      throw new SluiceError('INVALID_CONFIG', `store ${options.name}: ttlMs must be > 0`);
    }
    this.ttlMs = options.ttlMs;
    this.clock = options.clock ?? Date.now;
  }

  private now(): number {
    return this.ttlMs === undefined ? NEVER : this.clock();
  }

  setExpiredListener(listener: ((key: K) => void) | undefined): void {
    this.expiredListener = listener;
  }

  get(key: K): V | undefined {
    this.check();
    this.metrics.gets++;
    return this.core.get(key, this.now());
  }

  put(key: K, value: V): void {
    this.check();
    if (value === undefined)
      throw new SluiceError('INVALID_ARGUMENT', 'state store values must not be undefined');
    this.metrics.puts++;
    this.core.put(key, value, this.ttlMs === undefined ? NO_EXPIRY : this.clock() + this.ttlMs);
  }

  putAll(entries: Iterable<KeyValue<K, V>>): void {
    for (const { key, value } of entries) this.put(key, value);
  }

  delete(key: K): V | undefined {
    this.check();
    this.metrics.deletes++;
    const prev = this.core.get(key, this.now());
    this.core.delete(key);
    return prev;
  }

  *range(from?: K, to?: K): Iterable<KeyValue<K, V>> {
    this.check();
    this.metrics.rangeScans++;
    const codec = this.core.codec;
    const lo = from === undefined ? undefined : codec.encode(from);
    const hi = to === undefined ? undefined : codec.encode(to);
    if (lo !== undefined && hi !== undefined && Buffer.compare(lo, hi) > 0) return;
    for (const e of this.core.range(lo, hi, this.now())) {
      yield { key: e.key === undefined ? codec.decode(e.kb) : e.key, value: e.value };
    }
  }

  all(): Iterable<KeyValue<K, V>> {
    return this.range();
  }

  protected purgeExpired(): void {
    if (this.ttlMs === undefined) return;
    const now = this.clock();
    if (now < this.nextPurge) return;
    this.nextPurge = now + this.ttlMs / 2;
    const listener = this.expiredListener;
    const codec = this.core.codec;
    this.metrics.expired += this.core.purge(
      (e) => e.expiresAt <= now,
      listener === undefined ? undefined : (e) => listener(e.key === undefined ? codec.decode(e.kb) : e.key),
    );
  }
}

/** Shared retention bookkeeping of window and session stores. */
abstract class TimedStore<CK, V> extends BaseStore<CK, V> {
  observedTime = NEVER;
  private lastPurgeCutoff = NEVER;

  constructor(
    name: string,
    core: StoreCore<CK, V>,
    metrics: StoreMetrics,
    readonly retentionMs: number,
    onClose: () => void,
  ) {
    super(name, core, metrics, onClose);
    if (!(retentionMs >= 0))
      throw new SluiceError('INVALID_CONFIG', `store ${name}: retentionMs must be ≥ 0`);
  }

  /** Entries with time < cutoff are expired. */
  get cutoff(): number {
    return this.observedTime - this.retentionMs;
  }

  /** The time (window start / session end) encoded in a composite key. */
  protected abstract timeOf(kb: Uint8Array): number;

  /** Advances observed time; returns false when `t` is already beyond retention. */
  protected observe(t: number): boolean {
    if (t > this.observedTime) this.observedTime = t;
    if (t < this.cutoff) {
      this.metrics.expired++;
      return false;
    }
    return true;
  }

  protected override afterBulkLoad(): void {
    let max = NEVER;
    for (const e of this.core.range(undefined, undefined, NEVER)) {
      const t = this.timeOf(e.kb);
      if (t > max) max = t;
    }
    this.observedTime = max;
    this.lastPurgeCutoff = NEVER;
  }

  protected purgeExpired(): void {
    const cutoff = this.cutoff;
    if (cutoff === NEVER || Number.isNaN(cutoff)) return;
    if (this.lastPurgeCutoff !== NEVER && cutoff - this.lastPurgeCutoff < Math.max(1, this.retentionMs / 2))
      return;
    this.lastPurgeCutoff = cutoff;
    this.metrics.expired += this.core.purge((e) => this.timeOf(e.kb) < cutoff);
  }
}

export class WindowStoreImpl<K, V> extends TimedStore<WindowedKey<K>, V> implements WindowStore<K, V> {
  readonly kind = 'window' as const;
  private readonly keyCodec: PlainKeyCodec<K>;

  constructor(
    core: StoreCore<WindowedKey<K>, V>,
    metrics: StoreMetrics,
    readonly keySerde: Serde<K>,
    readonly valueSerde: Serde<V>,
    options: WindowStoreOptions<K, V>,
    onClose: () => void,
  ) {
    super(options.name, core, metrics, options.retentionMs, onClose);
    this.keyCodec = (core.codec as WindowKeyCodec<K>).inner;
    if (core.count() > 0) this.afterBulkLoad();
  }

  protected timeOf(kb: Uint8Array): number {
    return readOrderedInt(kb, kb.length - 8);
  }

  /** Whether a put at windowStart is kept (false: beyond retention, dropped). */
  put(key: K, windowStart: number, value: V): boolean {
    this.check();
    checkTime(windowStart, 'windowStart');
    if (value === undefined)
      throw new SluiceError('INVALID_ARGUMENT', 'state store values must not be undefined');
    this.metrics.puts++;
    if (!this.observe(windowStart)) return false;
    this.core.put({ key, start: windowStart }, value, NO_EXPIRY);
    return true;
  }

  remove(key: K, windowStart: number): void {
    this.check();
    this.metrics.deletes++;
    this.core.delete({ key, start: windowStart });
  }

  fetchWindow(key: K, windowStart: number): V | undefined {
    this.check();
    this.metrics.gets++;
    if (windowStart < this.cutoff) return undefined;
    return this.core.get({ key, start: windowStart }, NEVER);
  }

  *fetch(key: K, from: number, to: number): Iterable<KeyValue<WindowedKey<K>, V>> {
    this.check();
    this.metrics.rangeScans++;
    const lo = clampTime(Math.max(from, this.cutoff));
    const hi = clampTime(to);
    if (lo > hi) return;
    const kb = this.keyCodec.encode(key);
    const len = kb.length + 8;
    for (const e of this.core.range(windowBytes(kb, lo), windowBytes(kb, hi), NEVER)) {
      if (e.kb.length !== len) continue;
      yield { key: { key, start: readOrderedInt(e.kb, kb.length) }, value: e.value };
    }
  }

  *fetchAll(from: number, to: number): Iterable<KeyValue<WindowedKey<K>, V>> {
    this.check();
    this.metrics.rangeScans++;
    const lo = Math.max(from, this.cutoff);
    const codec = this.core.codec;
    for (const e of this.core.range(undefined, undefined, NEVER)) {
      const t = this.timeOf(e.kb);
      if (t < lo || t > to) continue;
      yield { key: e.key === undefined ? codec.decode(e.kb) : e.key, value: e.value };
    }
  }

  all(): Iterable<KeyValue<WindowedKey<K>, V>> {
    return this.fetchAll(MIN_TIME, MAX_TIME);
  }
}

export class SessionStoreImpl<K, V> extends TimedStore<SessionKey<K>, V> implements SessionStore<K, V> {
  readonly kind = 'session' as const;
  private readonly keyCodec: PlainKeyCodec<K>;

  constructor(
    core: StoreCore<SessionKey<K>, V>,
    metrics: StoreMetrics,
    readonly keySerde: Serde<K>,
    readonly valueSerde: Serde<V>,
    options: SessionStoreOptions<K, V>,
    onClose: () => void,
  ) {
    super(options.name, core, metrics, options.retentionMs, onClose);
    this.keyCodec = (core.codec as SessionKeyCodec<K>).inner;
    if (core.count() > 0) this.afterBulkLoad();
  }

  protected timeOf(kb: Uint8Array): number {
    return readOrderedInt(kb, kb.length - 16);
  }

  /** Whether the put is kept (false: the session ended beyond retention, dropped). */
  put(session: SessionKey<K>, value: V): boolean {
    this.check();
    checkTime(session.start, 'session start');
    checkTime(session.end, 'session end');
    if (session.start > session.end) {
      throw new SluiceError('INVALID_ARGUMENT', `session start ${session.start} > end ${session.end}`);
    }
    if (value === undefined)
      throw new SluiceError('INVALID_ARGUMENT', 'state store values must not be undefined');
    this.metrics.puts++;
    if (!this.observe(session.end)) return false;
    this.core.put({ key: session.key, start: session.start, end: session.end }, value, NO_EXPIRY);
    return true;
  }

  remove(session: SessionKey<K>): void {
    this.check();
    this.metrics.deletes++;
    this.core.delete(session);
  }

  fetchSession(session: SessionKey<K>): V | undefined {
    this.check();
    this.metrics.gets++;
    if (session.end < this.cutoff) return undefined;
    return this.core.get(session, NEVER);
  }

  findSessions(key: K, earliestSessionEnd: number, latestSessionStart: number): KeyValue<SessionKey<K>, V>[] {
    this.check();
    this.metrics.rangeScans++;
    const out: KeyValue<SessionKey<K>, V>[] = [];
    const lo = clampTime(Math.max(earliestSessionEnd, this.cutoff));
    if (lo > MAX_TIME) return out;
    const kb = this.keyCodec.encode(key);
    const n = kb.length;
    for (const e of this.core.range(
      sessionBytes(kb, lo, MIN_TIME),
      sessionBytes(kb, MAX_TIME, MAX_TIME),
      NEVER,
    )) {
      if (e.kb.length !== n + 16) continue;
      const start = readOrderedInt(e.kb, n + 8);
      if (start > latestSessionStart) continue;
      out.push({ key: { key, start, end: readOrderedInt(e.kb, n) }, value: e.value });
    }
    return out;
  }

  *all(): Iterable<KeyValue<SessionKey<K>, V>> {
    this.check();
    this.metrics.rangeScans++;
    const cutoff = this.cutoff;
    const codec = this.core.codec;
    for (const e of this.core.range(undefined, undefined, NEVER)) {
      if (this.timeOf(e.kb) < cutoff) continue;
      yield { key: e.key === undefined ? codec.decode(e.kb) : e.key, value: e.value };
    }
  }
}

/** A StoreEngine over a CoreFactory: names are unique among the engine's open stores. */
export class BaseEngine implements StoreEngine {
  private readonly open = new Map<string, { close(): void }>();
  private closed = false;

  constructor(private readonly factory: CoreFactory) {}

  get kind(): 'memory' | 'lmdb' {
    return this.factory.kind;
  }

  private register(name: string): () => void {
    if (this.closed) throw new SluiceError('CLOSED', 'state engine is closed');
    if (!name || name.startsWith(RESERVED_PREFIX)) {
      throw new SluiceError(
        'INVALID_ARGUMENT',
        `state store name ${JSON.stringify(name)} is empty or reserved`,
      );
    }
    if (this.open.has(name)) throw new SluiceError('ALREADY_EXISTS', `state store ${name} is already open`);
    return () => this.open.delete(name);
  }

  keyValueStore<K, V>(options: KeyValueStoreOptions<K, V>): KeyValueStoreImpl<K, V> {
    const onClose = this.register(options.name);
    const metrics = newStoreMetrics();
    const codec = new PlainKeyCodec(options.keySerde);
    const core = this.factory.createCore(
      options.name,
      codec,
      options.valueSerde,
      metrics,
      options.ttlMs !== undefined,
      'kv',
    );
    const s = new KeyValueStoreImpl(core, metrics, options.keySerde, options.valueSerde, options, onClose);
    this.open.set(options.name, s);
    return s;
  }

  windowStore<K, V>(options: WindowStoreOptions<K, V>): WindowStoreImpl<K, V> {
    const onClose = this.register(options.name);
    const metrics = newStoreMetrics();
    const codec = new WindowKeyCodec(new PlainKeyCodec(options.keySerde));
    const core = this.factory.createCore(options.name, codec, options.valueSerde, metrics, false, 'window');
    const s = new WindowStoreImpl(core, metrics, options.keySerde, options.valueSerde, options, onClose);
    this.open.set(options.name, s);
    return s;
  }

  sessionStore<K, V>(options: SessionStoreOptions<K, V>): SessionStoreImpl<K, V> {
    const onClose = this.register(options.name);
    const metrics = newStoreMetrics();
    const codec = new SessionKeyCodec(new PlainKeyCodec(options.keySerde));
    const core = this.factory.createCore(options.name, codec, options.valueSerde, metrics, false, 'session');
    const s = new SessionStoreImpl(core, metrics, options.keySerde, options.valueSerde, options, onClose);
    this.open.set(options.name, s);
    return s;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const s of [...this.open.values()]) s.close();
    this.closed = true;
    await this.factory.closeCores();
  }
}

export type { CoreEntry };
