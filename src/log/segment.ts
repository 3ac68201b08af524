/**
 * LogSegment: one `<20-digit base offset>.log` file of record batches v2, stored exactly as
 * appended, plus its sparse `.index` and `.timeindex` (see indexes.ts).
 *
 * Invariants: batches are contiguous from position 0 to `size`; their base offsets increase
 * and are >= the segment's base offset; relative offsets fit in int32 and positions in int32
 * (segments are capped below 2 GiB). `size` is the committed length: bytes beyond it (a torn
 * write) are never read. `nextOffset` is the last batch's lastOffset + 1 (base if empty).
 *
 * Concurrency: single owner on one event loop. Writes are positional `writeSync` calls, so a
 * batch is either fully in the page cache or the append failed (then the file is cut back).
 * Durability is the owner's business (`fsync`/`fsyncSync`).
 *
 * Crash behaviour: after an unclean stop `recover()` re-reads the file, checking each batch's
 * length, magic, CRC and offset order, truncates at the first bad byte and rebuilds both
 * indexes. `open` with trusted content only checks the index files and rebuilds them (from
 * batch headers, no CRC) when they are missing, torn or disagree with the log.
 */
import { closeSync, fstatSync, fsync, fsyncSync, ftruncateSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { SluiceError } from '../common/index.js';
import {
  BATCH_HEADER_SIZE,
  BatchOffsets,
  LOG_OVERHEAD,
  type RecordBatchHeader,
  readBaseOffset,
  readBatchHeader,
  validateBatch,
} from '../protocol/index.js';
import { ioError, offsetFileStem, unlinkIfExists, writeFully } from './fs-util.js';
import { OffsetIndex, persistIndexFile, TimeIndex } from './indexes.js';

/** Segments stay below 2 GiB so positions fit the int32 index entries. */
export const MAX_SEGMENT_BYTES = 0x7fff_ffff;
const SCAN_CHUNK = 1024 * 1024;
/**
 * findBatch's read window, shared by every segment: findBatch is synchronous and nothing it
 * returns points into the window (the header is parsed out of it).
 */
const findWindow = Buffer.allocUnsafe(8 * 1024);

export interface LocatedBatch {
  position: number;
  header: RecordBatchHeader;
}

export class LogSegment {
  readonly baseOffset: number;
  readonly logPath: string;
  readonly indexPath: string;
  readonly timeIndexPath: string;
  size: number;
  nextOffset: number;
  /** Largest batch maxTimestamp in the segment; -1 when empty. */
  maxTimestamp = -1;
  /** Timestamp deciding age-based roll: first batch's maxTimestamp, else creation time. */
  rollTimestamp: number;
  offsetIndex = new OffsetIndex();
  timeIndex = new TimeIndex();
  private fd: number;
  private bytesSinceIndex = 0;
  private maxTsBatchRel = 0;
  private readonly indexInterval: number;
  private readonly scratch = Buffer.allocUnsafe(BATCH_HEADER_SIZE);
  private closed = false;

  private constructor(dir: string, baseOffset: number, fd: number, size: number, indexInterval: number) {
    this.baseOffset = baseOffset;
    const stem = join(dir, offsetFileStem(baseOffset));
    this.logPath = `${stem}.log`;
    this.indexPath = `${stem}.index`;
    this.timeIndexPath = `${stem}.timeindex`;
    this.fd = fd;
    this.size = size;
    this.nextOffset = baseOffset;
    this.indexInterval = indexInterval;
    this.rollTimestamp = Date.now();
  }

  /** A new, empty segment (any file of that name is replaced). */
  static create(dir: string, baseOffset: number, indexInterval: number): LogSegment {
    const path = join(dir, `${offsetFileStem(baseOffset)}.log`);
    let fd: number;
    try {
      fd = openSync(path, 'w+');
    } catch (err) {
      throw ioError(`create of segment ${path}`, err);
    }
    const seg = new LogSegment(dir, baseOffset, fd, 0, indexInterval);
    unlinkIfExists(seg.indexPath);
    unlinkIfExists(seg.timeIndexPath);
    return seg;
  }

  /**
   * Opens an existing segment. `recover` = re-validate every batch (unclean shutdown);
   * otherwise the content is trusted and only the indexes are checked. `fileName` overrides
   * the .log path (swap files).
   */
  static open(
    dir: string,
    baseOffset: number,
    indexInterval: number,
    recover: boolean,
  ): { segment: LogSegment; truncatedBytes: number } {
    const path = join(dir, `${offsetFileStem(baseOffset)}.log`);
    let fd: number;
    try {
      fd = openSync(path, 'r+');
    } catch (err) {
      throw ioError(`open of segment ${path}`, err);
    }
    const fileSize = fstatSync(fd).size;
    const seg = new LogSegment(dir, baseOffset, fd, fileSize, indexInterval);
    if (recover) return { segment: seg, truncatedBytes: seg.recover() };
    if (!seg.loadIndexes()) seg.rebuildIndexes();
    return { segment: seg, truncatedBytes: 0 };
  }

  get isEmpty(): boolean {
    return this.size === 0;
  }

  /** Appends already-validated batches; `headers` describe `buf`'s batches in order. */
  append(buf: Buffer, headers: readonly RecordBatchHeader[]): void {
    this.assertOpen();
    const start = this.size;
    try {
      writeFully(this.fd, buf, start);
    } catch (err) {
      // Cut back whatever part of the write landed, so the file ends at the last whole batch.
      try {
        ftruncateSync(this.fd, start);
      } catch {}
      throw ioError(`append to ${this.logPath}`, err);
    }
    let pos = start;
    for (const h of headers) {
      this.indexBatch(h, pos);
      pos += h.size;
    }
    this.size = pos;
  }

  private indexBatch(h: RecordBatchHeader, position: number): void {
    if (this.size === 0 && position === 0)
      this.rollTimestamp = h.maxTimestamp > 0 ? h.maxTimestamp : Date.now();
    const rel = h.baseOffset - this.baseOffset;
    if (h.maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = h.maxTimestamp;
      this.maxTsBatchRel = rel;
    }
    if (this.bytesSinceIndex >= this.indexInterval) {
      this.offsetIndex.append(rel, position);
      if (this.maxTimestamp >= 0) this.timeIndex.append(this.maxTimestamp, this.maxTsBatchRel);
      this.bytesSinceIndex = 0;
    }
    this.bytesSinceIndex += h.size;
    this.nextOffset = h.lastOffset + 1;
  }

  /** The header of the batch at `position`, or null past the end. No CRC check. */
  readHeaderAt(position: number): RecordBatchHeader | null {
    if (position + BATCH_HEADER_SIZE > this.size) return null;
    this.readInto(this.scratch, position, BATCH_HEADER_SIZE);
    return readBatchHeader(this.scratch, 0);
  }

  /** The first batch whose lastOffset >= offset, or null if none in this segment. */
  findBatch(offset: number): LocatedBatch | null {
    // From the index entry at or below the offset, batches are scanned in findWindow-sized
    // reads (one read covers the index interval's few batches, where a read per header would
    // be a syscall and a parsed header each); only the batch found is parsed into a header.
    const win = findWindow;
    let pos = this.offsetIndex.lookup(offset - this.baseOffset).position;
    while (pos + BATCH_HEADER_SIZE <= this.size) {
      const n = Math.min(this.size - pos, win.length);
      this.readInto(win, pos, n);
      let at = 0;
      while (at + BATCH_HEADER_SIZE <= n) {
        if (readBaseOffset(win, at) + win.readInt32BE(at + BatchOffsets.lastOffsetDelta) >= offset)
          return { position: pos + at, header: readBatchHeader(win, at) };
        const size = win.readInt32BE(at + BatchOffsets.batchLength) + LOG_OVERHEAD;
        if (size < BATCH_HEADER_SIZE)
          throw new SluiceError('CORRUPT_RECORD', `${this.logPath}: batch at ${pos + at} has length ${size}`);
        at += size;
      }
      pos += at;
    }
    return null;
  }

  /**
   * Reads whole batches from `position` (a batch boundary): at most `maxBytes`, but always the
   * first batch whole; stops before any batch with baseOffset >= maxOffset.
   */
  readBatches(position: number, firstSize: number, maxBytes: number, maxOffset: number): Buffer {
    const limit = Math.min(this.size, position + Math.max(maxBytes, firstSize));
    const buf = Buffer.allocUnsafe(limit - position);
    this.readInto(buf, position, buf.length);
    let end = 0;
    while (end + BATCH_HEADER_SIZE <= buf.length) {
      const size = buf.readInt32BE(end + BatchOffsets.batchLength) + LOG_OVERHEAD;
      if (end + size > buf.length) break;
      if (readBaseOffset(buf, end) >= maxOffset) break;
      end += size;
    }
    return end === buf.length ? buf : buf.subarray(0, end);
  }

  read(position: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    this.readInto(buf, position, length);
    return buf;
  }

  private readInto(buf: Buffer, position: number, length: number): void {
    this.assertOpen();
    let off = 0;
    while (off < length) {
      const n = readSync(this.fd, buf, off, length - off, position + off);
      if (n === 0) throw new SluiceError('IO', `unexpected end of ${this.logPath} at ${position + off}`);
      off += n;
    }
  }

  /**
   * Visits batches from `position` to the end in order. With `withBytes`, the visitor also gets
   * the batch bytes (a view valid only during the call); otherwise only headers are read.
   * Returning false (after handling that batch) stops the walk. Returns the position after
   * the last batch visited, where a later call can resume.
   */
  forEachBatch(
    position: number,
    withBytes: boolean,
    visit: (h: RecordBatchHeader, position: number, bytes: Buffer | null) => boolean | undefined,
  ): number {
    let pos = position;
    if (!withBytes) {
      for (;;) {
        const h = this.readHeaderAt(pos);
        if (h === null || h.size < BATCH_HEADER_SIZE || pos + h.size > this.size) return pos;
        const more = visit(h, pos, null);
        pos += h.size;
        if (more === false) return pos;
      }
    }
    const reader = new ChunkReader(this, position, this.size);
    while (pos + BATCH_HEADER_SIZE <= this.size) {
      const head = reader.view(pos, BATCH_HEADER_SIZE);
      const size = head.readInt32BE(8) + LOG_OVERHEAD;
      if (size < BATCH_HEADER_SIZE || pos + size > this.size) return pos;
      const bytes = reader.view(pos, size);
      const more = visit(readBatchHeader(bytes, 0), pos, bytes);
      pos += size;
      if (more === false) return pos;
    }
    return pos;
  }

  /** Full validation from position 0; truncates the first bad byte onwards. Returns bytes cut. */
  recover(): number {
    this.offsetIndex.clear();
    this.timeIndex.clear();
    this.maxTimestamp = -1;
    this.bytesSinceIndex = 0;
    this.nextOffset = this.baseOffset;
    const fileSize = this.size;
    const reader = new ChunkReader(this, 0, fileSize);
    let pos = 0;
    let minBase = this.baseOffset;
    while (pos + BATCH_HEADER_SIZE <= fileSize) {
      const size = reader.view(pos, BATCH_HEADER_SIZE).readInt32BE(8) + LOG_OVERHEAD;
      if (size < BATCH_HEADER_SIZE || pos + size > fileSize) break;
      let h: RecordBatchHeader;
      try {
        const bytes = reader.view(pos, size);
        h = validateBatch(bytes, 0, size);
      } catch {
        break;
      }
      if (h.baseOffset < minBase || h.lastOffset - this.baseOffset > 0x7fff_ffff) break;
      this.size = pos; // indexBatch reads size to detect the first batch
      this.indexBatch(h, pos);
      pos += size;
      minBase = h.lastOffset + 1;
    }
    this.size = pos;
    const cut = fileSize - pos;
    if (cut > 0) {
      try {
        ftruncateSync(this.fd, pos);
        fsyncSync(this.fd);
      } catch (err) {
        throw ioError(`truncation of ${this.logPath}`, err);
      }
    }
    return cut;
  }

  /** Rebuilds indexes, nextOffset and maxTimestamp from batch headers (trusted content). */
  rebuildIndexes(): void {
    this.offsetIndex.clear();
    this.timeIndex.clear();
    this.maxTimestamp = -1;
    this.bytesSinceIndex = 0;
    this.nextOffset = this.baseOffset;
    const committed = this.size;
    let end = 0;
    this.size = 0;
    this.forEachBatchTrusted(committed, (h, pos) => {
      this.size = pos;
      this.indexBatch(h, pos);
      end = pos + h.size;
    });
    this.size = end;
    if (end < committed) {
      // A trusted file with a torn tail (e.g. its index said more than the log holds): cut it.
      ftruncateSync(this.fd, end);
    }
  }

  private forEachBatchTrusted(limit: number, visit: (h: RecordBatchHeader, pos: number) => void): void {
    let pos = 0;
    while (pos + BATCH_HEADER_SIZE <= limit) {
      this.readInto(this.scratch, pos, BATCH_HEADER_SIZE);
      const h = readBatchHeader(this.scratch, 0);
      if (h.size < BATCH_HEADER_SIZE || pos + h.size > limit || h.baseOffset < this.baseOffset) return;
      visit(h, pos);
      pos += h.size;
    }
  }

  /**
   * Loads index files and checks them against the log: shapes, and the last offset-index entry
   * must point at a batch with the recorded offset. Then scans from the last entry to the end
   * for nextOffset and the tail's timestamps. False when a rebuild is needed.
   */
  private loadIndexes(): boolean {
    if (this.size === 0) return true;
    const oi = OffsetIndex.load(this.indexPath, this.size);
    const ti = TimeIndex.load(this.timeIndexPath);
    if (oi === null || ti === null) return false;
    const last = oi.last();
    const from = last === null ? 0 : last.position;
    if (last !== null) {
      const h = this.readHeaderAt(last.position);
      if (h === null || h.baseOffset - this.baseOffset !== last.relOffset) return false;
    }
    const tLast = ti.last();
    if (tLast !== null && tLast.relOffset < 0) return false;
    this.offsetIndex = oi;
    this.timeIndex = ti;
    this.maxTimestamp = tLast === null ? -1 : tLast.timestamp;
    if (tLast !== null) this.maxTsBatchRel = tLast.relOffset;
    const first = this.readHeaderAt(0);
    if (first === null) return false;
    this.rollTimestamp = first.maxTimestamp > 0 ? first.maxTimestamp : Date.now();
    let pos = from;
    let ok = true;
    const committed = this.size;
    this.bytesSinceIndex = 0;
    for (;;) {
      const h = this.readHeaderAt(pos);
      if (h === null) break;
      if (h.size < BATCH_HEADER_SIZE || pos + h.size > committed) {
        ok = false;
        break;
      }
      if (h.maxTimestamp > this.maxTimestamp) {
        this.maxTimestamp = h.maxTimestamp;
        this.maxTsBatchRel = h.baseOffset - this.baseOffset;
      }
      this.nextOffset = h.lastOffset + 1;
      this.bytesSinceIndex += h.size;
      pos += h.size;
    }
    return ok && pos === committed;
  }

  /** Cuts the segment at `position` (a batch boundary); `nextOffset` becomes `newNextOffset`. */
  truncateTo(position: number): void {
    this.assertOpen();
    try {
      ftruncateSync(this.fd, position);
      fsyncSync(this.fd);
    } catch (err) {
      throw ioError(`truncation of ${this.logPath}`, err);
    }
    this.size = position;
    this.rebuildIndexes();
    this.persistIndexes();
  }

  /** Writes both index files (fsynced), with a final time entry carrying the segment maximum. */
  persistIndexes(): void {
    if (this.maxTimestamp >= 0) this.timeIndex.append(this.maxTimestamp, this.maxTsBatchRel);
    persistIndexFile(this.indexPath, this.offsetIndex.toBuffer());
    persistIndexFile(this.timeIndexPath, this.timeIndex.toBuffer());
  }

  fsyncSync(): void {
    this.assertOpen();
    fsyncSync(this.fd);
  }

  fsync(cb: (err: Error | null) => void): void {
    if (this.closed) {
      cb(null);
      return;
    }
    fsync(this.fd, cb);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  /** Closes and removes the segment's files (log first: an orphan index is cleaned on open). */
  delete(): void {
    this.close();
    unlinkIfExists(this.logPath);
    unlinkIfExists(this.indexPath);
    unlinkIfExists(this.timeIndexPath);
  }

  private assertOpen(): void {
    if (this.closed) throw new SluiceError('CLOSED', `segment ${this.logPath} is closed`);
  }

  /** @internal for ChunkReader */
  readRaw(buf: Buffer, position: number, length: number): number {
    this.assertOpen();
    return readSync(this.fd, buf, 0, length, position);
  }
}

/** Sequential reads through a 1 MiB window; larger batches get their own buffer. */
class ChunkReader {
  private buf = Buffer.allocUnsafe(SCAN_CHUNK);
  private start = 0;
  private len = 0;

  constructor(
    private readonly seg: LogSegment,
    from: number,
    private readonly end: number,
  ) {
    this.start = from;
  }

  view(position: number, length: number): Buffer {
    if (position >= this.start && position + length <= this.start + this.len)
      return this.buf.subarray(position - this.start, position - this.start + length);
    if (length > this.buf.length) this.buf = Buffer.allocUnsafe(length);
    const want = Math.min(this.buf.length, this.end - position);
    let got = 0;
    while (got < want) {
      const n = this.seg.readRaw(this.buf.subarray(got), position + got, want - got);
      if (n === 0) break;
      got += n;
    }
    this.start = position;
    this.len = got;
    if (got < length) throw new SluiceError('IO', `short read at ${position}`);
    return this.buf.subarray(0, length);
  }
}
