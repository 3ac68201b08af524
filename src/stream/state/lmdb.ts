/**
 * LMDB engine: one LMDB environment per engine (per task), one named sub-database per store,
 * behind a write-back cache so the hot path never opens a write transaction.
 *
 * Format: LMDB key = the store key bytes (composite for window / session stores, see
 * codec.ts), so LMDB's lexicographic order is the store order and a window fetch is one
 * cursor range. Value = the value serde's bytes; stores with TTL prefix them with the expiry
 * time as an 8-byte big-endian float64. Keys must be 1..1978 bytes (LMDB's limit): an empty
 * key is rejected with INVALID_ARGUMENT.
 * Invariants: reads see the dirty map first, then LMDB (reads-your-writes); the dirty map
 * holds at most one entry per key (latest write wins) and is written back in ONE
 * transactionSync at flush, before a range scan, or when it exceeds maxDirtyEntries.
 * Concurrency: one thread per environment. Range scans run on LMDB read snapshots, so writes
 * during a scan are safe.
 * Crash behaviour: a write is in LMDB once written back (at flush at the latest); with the
 * default noSync an OS crash may lose the last transactions but never corrupts the file, a
 * process crash (kill -9) loses only the unflushed dirty map. LMDB is a cache of the changelog
 * topic, which is the source of truth: after an unclean stop, the runtime restores from the
 * changelog (or wipes and replays) rather than trusting local data beyond the last commit.
 */
import { mkdirSync } from 'node:fs';
import { type Database, type DatabaseOptions, open, type RootDatabase } from 'lmdb';
import { SluiceError } from '../../common/index.js';
import { CompositeRaw, type KeyCodec, type MapKey, type RawKey } from './codec.js';
import type { CoreEntry, CoreFactory, RawRow, StoreCore } from './core.js';
import { writeOrderedInt } from './serdes.js';
import { BaseEngine } from './stores.js';
import type { Serde, StoreMetrics } from './types.js';

interface Dirty<K, V> {
  readonly key: K;
  readonly value: V | undefined;
  readonly expiresAt: number;
  readonly tomb: boolean;
}

/** lmdb-js's typings know no custom key types: RawKey values pass as Uint8Array. */
type Bytes = Database<Buffer, Uint8Array>;
const asKey = (k: RawKey): Uint8Array => k as Uint8Array;

function rawLength(k: RawKey): number {
  if (k instanceof CompositeRaw) return rawLength(k.prefix) + (Number.isNaN(k.t2) ? 8 : 16);
  return typeof k === 'string' ? Buffer.byteLength(k) : k.length;
}

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
    if (key instanceof CompositeRaw) {
      let pos = writePlain(key.prefix, target, start, 16);
      writeOrderedInt(target, pos, key.t1);
      pos += 8;
      if (!Number.isNaN(key.t2)) {
        writeOrderedInt(target, pos, key.t2);
        pos += 8;
      }
      return pos;
    }
    return writePlain(key, target, start, 0);
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

export class LmdbCore<K, V> implements StoreCore<K, V> {
  private dirty = new Map<MapKey, Dirty<K, V>>();

  constructor(
    readonly codec: KeyCodec<K>,
    private readonly db: Bytes,
    private readonly valueSerde: Serde<V>,
    private readonly metrics: StoreMetrics,
    private readonly withExpiry: boolean,
    private readonly maxDirty: number,
  ) {
    this.copyOnRead = valueSerde.copiesInput !== true;
  }

  private readonly copyOnRead: boolean;

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
    const d = this.dirty.get(this.codec.mapKey(key));
    if (d !== undefined) return d.tomb || d.expiresAt <= now ? undefined : d.value;
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
    this.dirty.set(mk, { key, value, expiresAt, tomb: false });
    if (this.dirty.size >= this.maxDirty) this.writeBack();
  }

  delete(key: K): void {
    this.dirty.set(this.codec.mapKey(key), {
      key,
      value: undefined,
      expiresAt: Number.NEGATIVE_INFINITY,
      tomb: true,
    });
    if (this.dirty.size >= this.maxDirty) this.writeBack();
  }

  writeBack(): void {
    if (this.dirty.size === 0) return;
    // The dirty map is dropped only after the transaction committed: a failed write-back
    // (map full, I/O error) leaves every change cached, readable and retried at next flush.
    const dirty = this.dirty;
    let bytes = 0;
    this.db.transactionSync(() => {
      for (const d of dirty.values()) {
        const raw = this.codec.rawKey(d.key);
        const kb = asKey(raw);
        if (d.tomb) {
          this.db.remove(kb);
        } else {
          const vb = this.encodeValue(d.value as V, d.expiresAt);
          bytes += rawLength(raw) + vb.length;
          this.db.put(kb, vb as Buffer);
        }
      }
    });
    this.dirty = new Map();
    this.metrics.bytesWritten += bytes;
  }

  *range(from: Uint8Array | undefined, to: Uint8Array | undefined, now: number): Iterable<CoreEntry<K, V>> {
    this.writeBack();
    // lmdb-js starts unbounded scans at [5] for custom key encoders: always pass a start.
    const opts: { start: Uint8Array; end?: Uint8Array } = { start: from ?? FIRST_KEY };
    if (to !== undefined) opts.end = successor(to);
    for (const { key, value } of this.db.getRange(opts)) {
      const dv = this.decodeValue(value);
      if (dv.expiresAt <= now) continue;
      yield { kb: key as Buffer, key: undefined, value: dv.value, expiresAt: dv.expiresAt };
    }
  }

  purge(pred: (e: CoreEntry<K, V>) => boolean, onRemoved?: (e: CoreEntry<K, V>) => void): number {
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
    for (const d of this.dirty.values()) if (!d.tomb) n++;
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
    this.dirty.clear();
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
  }
  createCore<K, V>(
    name: string,
    codec: KeyCodec<K>,
    valueSerde: Serde<V>,
    metrics: StoreMetrics,
    withExpiry: boolean,
  ): StoreCore<K, V> {
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
