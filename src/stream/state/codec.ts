/**
 * Key codecs: how a typed store key becomes (a) a cheap, injective JS map key for hash lookups
 * and (b) the serialized bytes that define order and are written to LMDB and the changelog.
 *
 * Format (composite keys, see types.ts): window = keyBytes ‖ ordered start (8 bytes);
 * session = keyBytes ‖ ordered end (8) ‖ ordered start (8). "Ordered" = int64 big-endian with the
 * sign bit flipped, so byte order equals time order, negatives included.
 * Map keys: the key itself when the serde declares identityKey; the serde's own mapKey when it
 * has one (JSON text); otherwise the latin1 string of the key bytes. Map keys only hash —
 * order always comes from the key bytes. Composite map keys
 * prefix the times in decimal ("start|end|key"): decimals contain no '|', so it stays
 * injective.
 * Invariants: mapKey(a) === mapKey(b) ⇔ encode(a) equals encode(b) byte for byte.
 */
import { SluiceError } from '../../common/index.js';
import { readOrderedInt, writeOrderedInt } from './serdes.js';
import type { Serde, SessionKey, WindowedKey } from './types.js';

export type MapKey = string | number;

/**
 * A composite key not yet laid out: prefix (key bytes, or a string standing for its UTF-8
 * bytes) ‖ ordered t1 ‖ ordered t2 (absent when NaN). LMDB's key encoder writes it straight
 * into lmdb-js's key buffer, sparing the hot path a typed-array allocation per window.
 */
export class CompositeRaw {
  constructor(
    readonly prefix: Uint8Array | string,
    readonly t1: number,
    readonly t2: number,
  ) {}
}

export type RawKey = Uint8Array | string | CompositeRaw;

export interface KeyCodec<K> {
  mapKey(key: K): MapKey;
  encode(key: K): Uint8Array;
  /** The key bytes, or a form an engine can write without allocating them (see RawKey). */
  rawKey(key: K): RawKey;
  decode(bytes: Uint8Array): K;
}

export const MIN_TIME = -(2 ** 53) + 1;
export const MAX_TIME = 2 ** 53 - 1;

/** Sort key: latin1 string of bytes; comparing two with < equals unsigned byte comparison. */
export function sortKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

export function checkTime(t: number, what: string): void {
  if (!Number.isSafeInteger(t)) {
    throw new SluiceError('INVALID_ARGUMENT', `${what} must be a safe integer (ms), got ${t}`);
  }
}

export class PlainKeyCodec<K> implements KeyCodec<K> {
  readonly identity: boolean;
  readonly utf8: boolean;
  /** The serde's own map key (e.g. JSON text), when it has one and is not identity. */
  private readonly custom: ((key: K) => MapKey) | undefined;
  /** Whether the key bytes can be recovered from the map key alone (identity or latin1). */
  readonly bytesFromMapKey: boolean;
  constructor(readonly serde: Serde<K>) {
    this.identity = serde.identityKey === true;
    this.utf8 = serde.utf8 === true;
    this.custom = this.identity || serde.mapKey === undefined ? undefined : serde.mapKey.bind(serde);
    this.bytesFromMapKey = this.custom === undefined;
  }
  rawKey(key: K): Uint8Array | string {
    return this.utf8 ? (key as unknown as string) : this.serde.serialize(key);
  }
  mapKey(key: K): MapKey {
    if (this.identity) return key as unknown as MapKey;
    return this.custom !== undefined ? this.custom(key) : sortKey(this.serde.serialize(key));
  }
  /** The key bytes for a map key, when bytesFromMapKey. */
  bytesOfMapKey(mk: MapKey): Uint8Array {
    return this.identity ? this.serde.serialize(mk as unknown as K) : Buffer.from(mk as string, 'latin1');
  }
  encode(key: K): Uint8Array {
    return this.serde.serialize(key);
  }
  decode(bytes: Uint8Array): K {
    return this.serde.deserialize(bytes);
  }
}

export class WindowKeyCodec<K> implements KeyCodec<WindowedKey<K>> {
  constructor(readonly inner: PlainKeyCodec<K>) {}
  innerMapKey(key: K): MapKey {
    return this.inner.mapKey(key);
  }
  rawKey(wk: WindowedKey<K>): RawKey {
    return new CompositeRaw(this.inner.rawKey(wk.key), wk.start, Number.NaN);
  }
  mapKey(wk: WindowedKey<K>): MapKey {
    return `${wk.start}|${this.inner.mapKey(wk.key)}`;
  }
  encode(wk: WindowedKey<K>): Uint8Array {
    return windowBytes(this.inner.encode(wk.key), wk.start);
  }
  decode(bytes: Uint8Array): WindowedKey<K> {
    const n = bytes.length - 8;
    return { key: this.inner.decode(bytes.subarray(0, n)), start: readOrderedInt(bytes, n) };
  }
}

export function windowBytes(keyBytes: Uint8Array, start: number): Uint8Array {
  const out = new Uint8Array(keyBytes.length + 8);
  out.set(keyBytes, 0);
  writeOrderedInt(out, keyBytes.length, start);
  return out;
}

export class SessionKeyCodec<K> implements KeyCodec<SessionKey<K>> {
  constructor(readonly inner: PlainKeyCodec<K>) {}
  rawKey(sk: SessionKey<K>): RawKey {
    return new CompositeRaw(this.inner.rawKey(sk.key), sk.end, sk.start);
  }
  mapKey(sk: SessionKey<K>): MapKey {
    return `${sk.start}|${sk.end}|${this.inner.mapKey(sk.key)}`;
  }
  encode(sk: SessionKey<K>): Uint8Array {
    return sessionBytes(this.inner.encode(sk.key), sk.end, sk.start);
  }
  decode(bytes: Uint8Array): SessionKey<K> {
    const n = bytes.length - 16;
    return {
      key: this.inner.decode(bytes.subarray(0, n)),
      start: readOrderedInt(bytes, n + 8),
      end: readOrderedInt(bytes, n),
    };
  }
}

export function sessionBytes(keyBytes: Uint8Array, end: number, start: number): Uint8Array {
  const out = new Uint8Array(keyBytes.length + 16);
  out.set(keyBytes, 0);
  writeOrderedInt(out, keyBytes.length, end);
  writeOrderedInt(out, keyBytes.length + 8, start);
  return out;
}
