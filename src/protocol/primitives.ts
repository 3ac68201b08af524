/**
 * Kafka wire primitives: a growable big-endian ByteWriter and a bounds-checked ByteReader.
 *
 * Formats (Kafka protocol guide):
 *   int8/16/32/64, uint16/32 big-endian; float64 big-endian.
 *   unsigned varint (LEB128, 7 bits a byte, at most 5 bytes for 32 bits).
 *   signed varint / varlong: zigzag then LEB128 (record batch v2 fields).
 *   string: int16 length (-1 = null) + UTF-8;  compact string: uvarint(length + 1) (0 = null).
 *   bytes: int32 length (-1 = null);           compact bytes: uvarint(length + 1) (0 = null).
 *   uuid: 16 raw bytes.  tagged fields: uvarint count, then (uvarint tag, uvarint size, bytes).
 *
 * Invariants: a ByteReader never reads past its end; any attempt throws SluiceError
 * PROTOCOL with the offset, so a truncated or lying frame becomes one clean error.
 * Varints longer than their maximum width are rejected (no unbounded loops on garbage).
 * Strings and byte arrays returned by the reader are views (subarray) of the input, not
 * copies: callers that keep them past the input's lifetime copy them.
 *
 * Zero-copy output: `rawRef` appends a large buffer by reference instead of copying it (record
 * batches in Fetch responses); `chunks()` then returns the output as a list of Buffers for
 * writev. Positions (`length`, `reserve`, `patch*`) count only the writer's own bytes;
 * `byteLength` counts everything. A buffer passed to `rawRef` must not change until the
 * chunks are written out.
 */
import { SluiceError } from '../common/index.js';

const textDecoder = new TextDecoder('utf-8', { fatal: false });

/** Buffers at least this long are kept by reference by `rawRef`; shorter ones are copied. */
const REF_THRESHOLD = 1024;

export class ByteWriter {
  private buf: Buffer;
  private pos = 0;
  /** Buffers appended by reference, each at a position in the writer's own bytes. */
  private refs: { at: number; buf: Uint8Array }[] | undefined;
  private refBytes = 0;

  constructor(initialCapacity = 256) {
    this.buf = Buffer.allocUnsafe(initialCapacity);
  }

  /** Bytes in the writer's own buffer (excludes buffers appended by reference). */
  get length(): number {
    return this.pos;
  }

  /** Total output size, including buffers appended by reference. */
  get byteLength(): number {
    return this.pos + this.refBytes;
  }

  /** Makes room for n more bytes. */
  private ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int8(v: number): this {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
    return this;
  }

  uint8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }

  int16(v: number): this {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  uint16(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  uint32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  int64(v: bigint): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
    return this;
  }

  /** int64 from a JS number (offsets, timestamps); exact up to 2^53. */
  int64n(v: number): this {
    this.ensure(8);
    const hi = Math.floor(v / 0x1_0000_0000);
    this.buf.writeInt32BE(hi, this.pos);
    this.buf.writeUInt32BE(v - hi * 0x1_0000_0000, this.pos + 4);
    this.pos += 8;
    return this;
  }

  float64(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
    return this;
  }

  bool(v: boolean): this {
    return this.uint8(v ? 1 : 0);
  }

  /** Unsigned LEB128 varint of a 32-bit unsigned value. */
  uvarint(v: number): this {
    this.ensure(5);
    v >>>= 0;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
    return this;
  }

  /** Zigzag-encoded signed 32-bit varint. */
  varint(v: number): this {
    return this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  /** Zigzag-encoded signed 64-bit varlong, from a JS number (exact up to 2^53). */
  varlong(v: number): this {
    if (v >= -0x4000_0000 && v < 0x4000_0000) return this.varint(v);
    return this.varlongBig(BigInt(v));
  }

  varlongBig(v: bigint): this {
    this.ensure(10);
    let z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    while (z >= 0x80n) {
      this.buf[this.pos++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buf[this.pos++] = Number(z);
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /** Appends bytes; large ones by reference (a separate chunk, no copy). */
  rawRef(bytes: Uint8Array): this {
    if (bytes.length < REF_THRESHOLD) return this.raw(bytes);
    if (this.refs === undefined) this.refs = [];
    this.refs.push({ at: this.pos, buf: bytes });
    this.refBytes += bytes.length;
    return this;
  }

  /** The output as a list of Buffers (views of the writer's buffer and the referenced ones). */
  chunks(): Buffer[] {
    const own = this.buf;
    if (this.refs === undefined) return [own.subarray(0, this.pos)];
    const out: Buffer[] = [];
    let from = 0;
    for (const { at, buf } of this.refs) {
      if (at > from) out.push(own.subarray(from, at));
      out.push(Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
      from = at;
    }
    if (this.pos > from) out.push(own.subarray(from, this.pos));
    return out;
  }

  /** int16-length string; null writes length -1. */
  string(s: string | null): this {
    if (s === null) return this.int16(-1);
    const len = Buffer.byteLength(s, 'utf8');
    if (len > 0x7fff)
      throw new SluiceError('INVALID_ARGUMENT', `string of ${len} bytes exceeds the int16 length limit`);
    this.int16(len);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    return this;
  }

  /** uvarint(length + 1) string; null writes 0. */
  compactString(s: string | null): this {
    if (s === null) return this.uvarint(0);
    const len = Buffer.byteLength(s, 'utf8');
    this.uvarint(len + 1);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, 'utf8');
    return this;
  }

  /** int32-length bytes; null writes length -1. */
  bytes(b: Uint8Array | null): this {
    if (b === null) return this.int32(-1);
    this.int32(b.length);
    return this.raw(b);
  }

  /** uvarint(length + 1) bytes; null writes 0. */
  compactBytes(b: Uint8Array | null): this {
    if (b === null) return this.uvarint(0);
    this.uvarint(b.length + 1);
    return this.raw(b);
  }

  uuid(b: Uint8Array): this {
    if (b.length !== 16) throw new SluiceError('INVALID_ARGUMENT', `uuid must be 16 bytes, got ${b.length}`);
    return this.raw(b);
  }

  /** Reserves n bytes to be filled later (lengths, CRCs); returns their position. */
  reserve(n: number): number {
    this.ensure(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** Writes an int32 at an earlier position (after reserve). */
  patchInt32(at: number, v: number): void {
    this.buf.writeInt32BE(v, at);
  }

  patchUint32(at: number, v: number): void {
    this.buf.writeUInt32BE(v >>> 0, at);
  }

  /** The bytes written so far, as a view (valid until the next write); a copy if rawRef was used. */
  view(): Buffer {
    if (this.refs !== undefined) return Buffer.concat(this.chunks(), this.byteLength);
    return this.buf.subarray(0, this.pos);
  }

  /** The bytes written so far, as an exact-size copy. */
  toBuffer(): Buffer {
    if (this.refs !== undefined) return Buffer.concat(this.chunks(), this.byteLength);
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

export class ByteReader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;
  /**
   * Array elements the message decoders may still create from this input (codec.ts counts
   * them down). Bounds the objects one request can make: a frame of tiny elements would
   * otherwise turn every few bytes into an object of ~100 bytes.
   */
  elementBudget = Number.POSITIVE_INFINITY;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new SluiceError(
        'PROTOCOL',
        `truncated input: ${what} needs ${n} bytes at offset ${this.pos}, ${this.end - this.pos} left`,
      );
    }
  }

  int8(): number {
    this.need(1, 'int8');
    return this.buf.readInt8(this.pos++);
  }

  uint8(): number {
    this.need(1, 'uint8');
    return this.buf[this.pos++] as number;
  }

  int16(): number {
    this.need(2, 'int16');
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  uint16(): number {
    this.need(2, 'uint16');
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4, 'int32');
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4, 'uint32');
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): bigint {
    this.need(8, 'int64');
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** int64 as a JS number (offsets, timestamps); exact up to 2^53. */
  int64n(): number {
    this.need(8, 'int64');
    const hi = this.buf.readInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return hi * 0x1_0000_0000 + lo;
  }

  float64(): number {
    this.need(8, 'float64');
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  bool(): boolean {
    return this.uint8() !== 0;
  }

  uvarint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      this.need(1, 'varint');
      const b = this.buf[this.pos++] as number;
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
    throw new SluiceError('PROTOCOL', `varint longer than 5 bytes at offset ${this.pos - 5}`);
  }

  varint(): number {
    const z = this.uvarint();
    return (z >>> 1) ^ -(z & 1);
  }

  /**
   * Zigzag varlong as a JS number. Encodings of up to 7 bytes (|v| < 2^48) decode in double
   * arithmetic; longer ones go through BigInt so the result is exact for every safe integer.
   */
  varlong(): number {
    const start = this.pos;
    let result = 0;
    let mult = 1;
    for (let i = 0; i < 7; i++) {
      this.need(1, 'varlong');
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * mult;
      if ((b & 0x80) === 0) return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
      mult *= 128;
    }
    this.pos = start;
    return Number(this.varlongBig());
  }

  varlongBig(): bigint {
    let z = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      this.need(1, 'varlong');
      const b = this.buf[this.pos++] as number;
      z |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        z = BigInt.asUintN(64, z);
        return (z >> 1n) ^ -(z & 1n);
      }
      shift += 7n;
    }
    throw new SluiceError('PROTOCOL', `varlong longer than 10 bytes at offset ${this.pos - 10}`);
  }

  raw(n: number): Buffer {
    this.need(n, 'bytes');
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  string(): string | null {
    const len = this.int16();
    if (len < 0) {
      if (len !== -1)
        throw new SluiceError('PROTOCOL', `invalid string length ${len} at offset ${this.pos - 2}`);
      return null;
    }
    return textDecoder.decode(this.raw(len));
  }

  compactString(): string | null {
    const n = this.uvarint();
    if (n === 0) return null;
    return textDecoder.decode(this.raw(n - 1));
  }

  bytes(): Buffer | null {
    const len = this.int32();
    if (len < 0) {
      if (len !== -1)
        throw new SluiceError('PROTOCOL', `invalid bytes length ${len} at offset ${this.pos - 4}`);
      return null;
    }
    return this.raw(len);
  }

  compactBytes(): Buffer | null {
    const n = this.uvarint();
    if (n === 0) return null;
    return this.raw(n - 1);
  }

  uuid(): Buffer {
    return this.raw(16);
  }
}
