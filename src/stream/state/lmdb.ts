/**
 * LMDB engine: one LMDB environment per engine (per task), one named sub-database per store,
 * behind a write-back cache so the hot path never opens a write transaction.
 *
 * Format: LMDB key = the store key bytes (composite for window / session stores, see
 * codec.ts), so LMDB's lexicographic order is the store order and a window fetch is one
 * cursor range. Value = the value serde's bytes; stores with TTL prefix them with the expiry
 * time as an 8-byte big-endian float64. Keys must be 1..1978 bytes (LMDB's limit): an empty
 * key is rejected with INVALID_ARGUMENT. The database `__sluice-layout` records each store's
 * kind and TTL header at creation; reopening a store under another layout is INVALID_CONFIG.
 * Invariants: reads see the write-back overlay first, then LMDB (reads-your-writes); the
 * overlay (an in-memory core, memory.ts) holds the latest write per key, deletes as
 * tombstones, and is written back in ONE transactionSync at flush or when it reaches
 * maxDirtyEntries. Range scans merge overlay and LMDB cursors (overlay wins on equal keys),
 * so a scan never forces a write transaction — a session store scans on nearly every record.
 * Concurrency: one thread per environment. Scans read an LMDB snapshot plus the overlay of
 * their start (a write-back replaces the overlay instead of clearing it), so writes during a
 * scan are safe: it sees every entry present at its start that was not deleted before being
 * reached, once, and may or may not see later writes.
 * Crash behaviour: a write is in LMDB once written back (at flush at the latest); with the
 * default noSync an OS crash may lose the last transactions but never corrupts the file, a
 * process crash (kill -9) loses only the unflushed overlay. LMDB is a cache of the changelog
 * topic, which is the source of truth: after an unclean stop, the runtime restores from the
 * changelog (or wipes and replays) rather than trusting local data beyond the last commit.
 */
import { mkdirSync } from 'node:fs';
import { type Database, type DatabaseOptions, open, type RootDatabase } from 'lmdb';
import { SluiceError } from '../../common/index.js';
import { CompositeRaw, type KeyCodec, type RawKey } from './codec.js';
import type { CoreEntry, CoreFactory, RawRow, StoreCore } from './core.js';
import { MemoryCore } from './memory.js';
import { writeOrderedInt } from './serdes.js';
import { BaseEngine, RESERVED_PREFIX } from './stores.js';
import type { Serde, StoreKind, StoreMetrics } from './types.js';

/** lmdb-js's typings know no custom key types: RawKey values pass as Uint8Array. */
type Bytes = Database<Buffer, Uint8Array>;
const asKey = (k: RawKey): Uint8Array => k as Uint8Array;

/**
 * Key bytes encoded so far (all stores, one thread): a write-back reads the difference across
 * its transaction for metrics.bytesWritten instead of measuring each key again.
 */
let keyBytesEncoded = 0;

/** The smallest byte string greater than b (LMDB range ends are exclusive). */
function successor(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length + 1);
  out.set(b, 0);
  return out;
}

const slice = Uint8Array.prototype.slice;
/** The smallest non-empty key (LMDB has no empty keys). */
const FIRST_KEY = new Uint8Array([0]);

/** LMDB's maximum key size with lmdb-js defaults. */
const MAX_KEY_BYTES = 1978;

function keyTooLong(n: number): SluiceError {
  return new SluiceError('INVALID_ARGUMENT', `LMDB store keys are at most ${MAX_KEY_BYTES} bytes, got ${n}`);
}

/**
 * Key encoder: raw bytes as they are, strings as their UTF-8 bytes written straight into
 * lmdb-js's key buffer (the same bytes stringSerde produces, without allocating them).
 */
const rawKeyEncoder = {
  writeKey(key: RawKey, target: Buffer, start: number): number {
    let pos: number;
    if (key instanceof CompositeRaw) {
      pos = writePlain(key.prefix, target, start, 16);
      writeOrderedInt(target, pos, key.t1);
      pos += 8;
      if (!Number.isNaN(key.t2)) {
        writeOrderedInt(target, pos, key.t2);
        pos += 8;
      }
    } else pos = writePlain(key, target, start, 0);
    keyBytesEncoded += pos - start;
    return pos;
  },
  readKey(source: Uint8Array, start: number, end: number): Buffer {
    return Buffer.from(source.subarray(start, end));
  },
};

/** UTF-8 into target: a JS loop for short ASCII (no native call), Buffer.write otherwise. */
function writeUtf8(key: string, target: Buffer, start: number): number {
  const n = key.length;
  if (n <= 64) {
    let i = 0;
    while (i < n) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) break;
      target[start + i++] = c;
    }
    if (i === n) return start + n;
  }
  return start + target.write(key, start, 'utf8');
}

function writePlain(key: Uint8Array | string, target: Buffer, start: number, reserve: number): number {
  const max = MAX_KEY_BYTES - reserve;
  if (typeof key === 'string') {
    if (key.length > max / 3 && Buffer.byteLength(key) > max)
      throw keyTooLong(Buffer.byteLength(key) + reserve);
    return writeUtf8(key, target, start);
  }
  if (key.length > max) throw keyTooLong(key.length + reserve);
  target.set(key, start);
  return start + key.length;
}

/** A pending delete in the write-back overlay. */
const TOMB: unique symbol = Symbol('tombstone');
type Cached<V> = V | typeof TOMB;

export class LmdbCore<K, V> implements StoreCore<K, V> {
  /**
   * Write-back cache: an in-memory core holding the latest write per key (TOMB for deletes).
   * Scans merge it with LMDB, so they never force a write transaction. Replaced (not
   * cleared) at write-back, so a scan suspended across a flush keeps a consistent view.
   */
  private overlay: MemoryCore<K, Cached<V>>;

  constructor(
    readonly codec: KeyCodec<K>,
    private readonly db: Bytes,
    private readonly valueSerde: Serde<V>,
    private readonly metrics: StoreMetrics,
    private readonly withExpiry: boolean,
    private readonly maxDirty: number,
  ) {
    this.copyOnRead = valueSerde.copiesInput !== true;
    this.overlay = this.newOverlay();
  }

  private readonly copyOnRead: boolean;

  private newOverlay(): MemoryCore<K, Cached<V>> {
    return new MemoryCore<K, Cached<V>>(this.codec, this.valueSerde as Serde<Cached<V>>);
  }

  private decodeValue(raw: Buffer): { value: V; expiresAt: number } {
    if (!this.withExpiry)
      return { value: this.valueSerde.deserialize(raw), expiresAt: Number.POSITIVE_INFINITY };
    return { value: this.valueSerde.deserialize(raw.subarray(8)), expiresAt: raw.readDoubleBE(0) };
  }

  private encodeValue(value: V, expiresAt: number): Uint8Array {
    const vb = this.valueSerde.serialize(value);
    if (!this.withExpiry) return vb;
    const out = Buffer.allocUnsafe(vb.length + 8);
    out.writeDoubleBE(expiresAt, 0);
    out.set(vb, 8);
    return out;
  }

  get(key: K, now: number): V | undefined {
    const d = this.overlay.entryFor(key);
    if (d !== undefined) return d.value === TOMB || d.expiresAt <= now ? undefined : d.value;
    const fast = this.db.getBinaryFast(asKey(this.codec.rawKey(key)));
    if (fast === undefined) return undefined;
    // getBinaryFast returns lmdb-js's shared buffer with `length` overridden to the value size
    // (its byteLength is larger) and reused by the next read: take a view of the value, or a
    // copy unless the serde copies anyway.
    const n = fast.length;
    this.metrics.bytesRead += n;
    const raw = (this.copyOnRead ? slice.call(fast, 0, n) : fast.subarray(0, n)) as Buffer;
    if (!this.withExpiry) return this.valueSerde.deserialize(raw);
    if (raw.readDoubleBE(0) <= now) return undefined;
    return this.valueSerde.deserialize(raw.subarray(8));
  }

  put(key: K, value: V, expiresAt: number): void {
    const mk = this.codec.mapKey(key);
    if (mk === '') throw new SluiceError('INVALID_ARGUMENT', 'LMDB store keys must not serialize to 0 bytes');
    // Checked here, not at write-back, so a bad key never aborts a whole flush.
    if (typeof mk === 'string' && mk.length > MAX_KEY_BYTES / 4) {
      const n = this.codec.encode(key).length;
      if (n > MAX_KEY_BYTES) throw keyTooLong(n);
    }
    this.overlay.put(key, value, expiresAt);
    if (this.overlay.count() >= this.maxDirty) this.writeBack();
  }

  delete(key: K): void {
    this.overlay.put(key, TOMB, Number.POSITIVE_INFINITY);
    if (this.overlay.count() >= this.maxDirty) this.writeBack();
  }

  writeBack(): void {
    const overlay = this.overlay;
    if (overlay.count() === 0) return;
    // The overlay is dropped only after the transaction committed: a failed write-back
    // (map full, I/O error) leaves every change cached, readable and retried at next flush.
    let bytes = 0;
    const keyBytesBefore = keyBytesEncoded;
    this.db.transactionSync(() => {
      for (const d of overlay.values()) {
        const kb = asKey(this.codec.rawKey(d.key as K));
        if (d.value === TOMB) {
          this.db.remove(kb);
        } else {
          const vb = this.encodeValue(d.value, d.expiresAt);
          bytes += vb.length;
          this.db.put(kb, vb as Buffer);
        }
      }
    });
    this.overlay = this.newOverlay();
    this.metrics.bytesWritten += bytes + (keyBytesEncoded - keyBytesBefore);
  }

  /** LMDB's range merged with the overlay's; the overlay wins on equal keys. */
  *range(from: Uint8Array | undefined, to: Uint8Array | undefined, now: number): Iterable<CoreEntry<K, V>> {
    const NEVER = Number.NEGATIVE_INFINITY;
    const ov = this.overlay.range(from, to, NEVER)[Symbol.iterator]();
    // lmdb-js starts unbounded scans at [5] for custom key encoders: always pass a start.
    const opts: { start: Uint8Array; end?: Uint8Array } = { start: from ?? FIRST_KEY };
    if (to !== undefined) opts.end = successor(to);
    const lm = this.db.getRange(opts)[Symbol.iterator]();
    let o = ov.next();
    let l = lm.next();
    while (!o.done || !l.done) {
      const c = o.done ? 1 : l.done ? -1 : Buffer.compare(o.value.kb, l.value.key as Buffer);
      if (c <= 0) {
        const e = o.value as CoreEntry<K, Cached<V>>;
        o = ov.next();
        if (c === 0) l = lm.next();
        if (e.value === TOMB || e.expiresAt <= now) continue;
        yield e as CoreEntry<K, V>;
      } else {
        const { key, value } = l.value;
        l = lm.next();
        const dv = this.decodeValue(value);
        if (dv.expiresAt <= now) continue;
        yield { kb: key as Buffer, key: undefined, value: dv.value, expiresAt: dv.expiresAt };
      }
    }
  }

  purge(pred: (e: CoreEntry<K, V>) => boolean, onRemoved?: (e: CoreEntry<K, V>) => void): number {
    this.writeBack();
    const removed: CoreEntry<K, V>[] = [];
    for (const e of this.range(undefined, undefined, Number.NEGATIVE_INFINITY)) if (pred(e)) removed.push(e);
    if (removed.length === 0) return 0;
    this.db.transactionSync(() => {
      for (const e of removed) this.db.remove(e.kb);
    });
    if (onRemoved !== undefined) for (const e of removed) onRemoved(e);
    return removed.length;
  }

  count(): number {
    let n = (this.db.getStats() as { entryCount: number }).entryCount;
    for (const d of this.overlay.values()) if (d.value !== TOMB) n++;
    return n;
  }

  *exportRaw(): Iterable<RawRow> {
    this.writeBack();
    for (const { key, value } of this.db.getRange({ start: FIRST_KEY })) {
      const kb = key as Buffer;
      if (!this.withExpiry) yield { kb, vb: value, expiresAt: Number.POSITIVE_INFINITY };
      else yield { kb, vb: value.subarray(8), expiresAt: value.readDoubleBE(0) };
    }
  }

  importRaw(row: RawRow): void {
    this.put(this.codec.decode(row.kb), this.valueSerde.deserialize(row.vb), row.expiresAt);
  }

  clear(): void {
    this.overlay.clear();
    this.overlay = this.newOverlay();
    this.db.clearSync();
  }

  close(): void {
    this.writeBack();
  }
}

export interface LmdbEngineOptions {
  /** Directory of the LMDB environment (created if missing). */
  readonly path: string;
  /** fsync at every write-back. Default false: the changelog is the source of truth. */
  readonly sync?: boolean;
  /** Dirty entries per store before an early write-back. Default 100 000. */
  readonly maxDirtyEntries?: number;
  /** Maximum named stores in the environment. Default 256. */
  readonly maxStores?: number;
}

/** What a store's bytes mean, recorded at creation in the environment's layout database. */
interface StoreLayout {
  readonly version: 1;
  readonly kind: StoreKind;
  readonly expiryHeader: boolean;
}

class LmdbCoreFactory implements CoreFactory {
  readonly kind = 'lmdb' as const;
  readonly env: RootDatabase;
  constructor(private readonly options: LmdbEngineOptions) {
    mkdirSync(options.path, { recursive: true });
    this.env = open({
      path: options.path,
      noSync: options.sync !== true,
      maxDbs: options.maxStores ?? 256,
    });
    this.meta = this.env.openDB<StoreLayout, string>(`${RESERVED_PREFIX}-layout`, { encoding: 'json' });
  }
  private readonly meta: Database<StoreLayout, string>;
  createCore<K, V>(
    name: string,
    codec: KeyCodec<K>,
    valueSerde: Serde<V>,
    metrics: StoreMetrics,
    withExpiry: boolean,
    kind: StoreKind,
  ): StoreCore<K, V> {
    // A store's bytes mean something only under the layout that wrote them (kind, TTL header):
    // reopening it under another is refused instead of misreading every value.
    const layout: StoreLayout = { version: 1, kind, expiryHeader: withExpiry };
    const stored = this.meta.get(name);
    if (stored !== undefined && JSON.stringify(stored) !== JSON.stringify(layout)) {
      throw new SluiceError(
        'INVALID_CONFIG',
        `state store ${name} was created as ${JSON.stringify(stored)}, cannot reopen as ${JSON.stringify(layout)}`,
      );
    }
    if (stored === undefined) this.meta.putSync(name, layout);
    // keyEncoder is supported by lmdb-js (keys.js) but missing from its typings.
    const options = { keyEncoder: rawKeyEncoder, encoding: 'binary' } as unknown as DatabaseOptions;
    const db = this.env.openDB<Buffer, Uint8Array>(name, options);
    return new LmdbCore(codec, db, valueSerde, metrics, withExpiry, this.options.maxDirtyEntries ?? 100_000);
  }
  closeCores(): Promise<void> {
    return this.env.close();
  }
}

/** An engine whose stores live in the LMDB environment at options.path. */
export function createLmdbEngine(options: LmdbEngineOptions): BaseEngine {
  return new BaseEngine(new LmdbCoreFactory(options));
}
