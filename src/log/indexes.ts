/**
 * Sparse per-segment indexes, Kafka's layout.
 *
 * `.index` (OffsetIndex): 8-byte entries (int32 offset relative to the segment's base offset,
 *   int32 byte position of the batch in the .log file), strictly increasing in both fields.
 *   An entry is added for a batch once `index.interval.bytes` of log have been written since
 *   the previous entry. lookup(offset) gives the greatest entry at or below it (or position 0).
 * `.timeindex` (TimeIndex): 12-byte entries (int64 timestamp, int32 relative offset), strictly
 *   increasing in both. An entry (T, o) means: T is the largest timestamp in the segment up to
 *   and including the batch at offset o, so every record before offset o has timestamp <= T.
 *   The final entry written at roll/close carries the segment's maximum timestamp.
 *
 * Both live in memory (growable typed arrays) and are written to disk whole when the segment
 * rolls or the log closes (`persist`, fsynced). After a crash an index file may be stale,
 * torn or missing: `load` checks its shape and the caller checks the last entry against the
 * log, and rebuilds from the .log when either check fails. Not thread-safe; one owner.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { readFileOrNull, writeFully } from './fs-util.js';

export class OffsetIndex {
  private rel = new Int32Array(64);
  private pos = new Int32Array(64);
  private n = 0;

  get entries(): number {
    return this.n;
  }

  append(relOffset: number, position: number): void {
    if (this.n > 0 && (relOffset <= this.rel[this.n - 1]! || position <= this.pos[this.n - 1]!)) return;
    if (this.n === this.rel.length) {
      const r = new Int32Array(this.n * 2);
      r.set(this.rel);
      this.rel = r;
      const p = new Int32Array(this.n * 2);
      p.set(this.pos);
      this.pos = p;
    }
    this.rel[this.n] = relOffset;
    this.pos[this.n] = position;
    this.n++;
  }

  /** Position of the greatest indexed batch with relative offset <= relOffset; 0 if none. */
  lookup(relOffset: number): { relOffset: number; position: number } {
    let lo = 0;
    let hi = this.n - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.rel[mid]! <= relOffset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0
      ? { relOffset: -1, position: 0 }
      : { relOffset: this.rel[found]!, position: this.pos[found]! };
  }

  last(): { relOffset: number; position: number } | null {
    return this.n === 0 ? null : { relOffset: this.rel[this.n - 1]!, position: this.pos[this.n - 1]! };
  }

  /** Drops entries at or after `position` (truncation). */
  truncateToPosition(position: number): void {
    while (this.n > 0 && this.pos[this.n - 1]! >= position) this.n--;
  }

  clear(): void {
    this.n = 0;
  }

  toBuffer(): Buffer {
    const b = Buffer.allocUnsafe(this.n * 8);
    for (let i = 0; i < this.n; i++) {
      b.writeInt32BE(this.rel[i]!, i * 8);
      b.writeInt32BE(this.pos[i]!, i * 8 + 4);
    }
    return b;
  }

  /** Loads and shape-checks an index file; null when missing or malformed. */
  static load(path: string, logSize: number): OffsetIndex | null {
    const b = readFileOrNull(path);
    if (b === null || b.length % 8 !== 0) return null;
    const idx = new OffsetIndex();
    for (let i = 0; i < b.length; i += 8) {
      const rel = b.readInt32BE(i);
      const pos = b.readInt32BE(i + 4);
      if (rel < 0 || pos < 0 || pos >= logSize) return null;
      const before = idx.n;
      idx.append(rel, pos);
      if (idx.n === before) return null; // not strictly increasing
    }
    return idx;
  }
}

export class TimeIndex {
  private ts: number[] = [];
  private rel: number[] = [];

  get entries(): number {
    return this.ts.length;
  }

  append(timestamp: number, relOffset: number): void {
    const n = this.ts.length;
    if (n > 0 && (timestamp <= this.ts[n - 1]! || relOffset < this.rel[n - 1]!)) return;
    if (n > 0 && relOffset === this.rel[n - 1]) {
      this.ts[n - 1] = timestamp;
      return;
    }
    this.ts.push(timestamp);
    this.rel.push(relOffset);
  }

  /** Greatest entry with timestamp strictly below `timestamp`; null if none. */
  lookupBelow(timestamp: number): { timestamp: number; relOffset: number } | null {
    let lo = 0;
    let hi = this.ts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid]! < timestamp) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? null : { timestamp: this.ts[found]!, relOffset: this.rel[found]! };
  }

  last(): { timestamp: number; relOffset: number } | null {
    const n = this.ts.length;
    return n === 0 ? null : { timestamp: this.ts[n - 1]!, relOffset: this.rel[n - 1]! };
  }

  truncateToRelOffset(relOffset: number): void {
    while (this.rel.length > 0 && this.rel[this.rel.length - 1]! >= relOffset) {
      this.rel.pop();
      this.ts.pop();
    }
  }

  clear(): void {
    this.ts = [];
    this.rel = [];
  }

  toBuffer(): Buffer {
    const n = this.ts.length;
    const b = Buffer.allocUnsafe(n * 12);
    for (let i = 0; i < n; i++) {
      b.writeBigInt64BE(BigInt(this.ts[i]!), i * 12);
      b.writeInt32BE(this.rel[i]!, i * 12 + 8);
    }
    return b;
  }

  static load(path: string): TimeIndex | null {
    const b = readFileOrNull(path);
    if (b === null || b.length % 12 !== 0) return null;
    const idx = new TimeIndex();
    for (let i = 0; i < b.length; i += 12) {
      const ts = Number(b.readBigInt64BE(i));
      const rel = b.readInt32BE(i + 8);
      const before = idx.ts.length;
      if (rel < 0) return null;
      idx.append(ts, rel);
      if (idx.ts.length === before) return null;
    }
    return idx;
  }
}

/** Writes an index file in place and fsyncs it. A torn write is caught by `load` on open. */
export function persistIndexFile(path: string, data: Buffer): void {
  const fd = openSync(path, 'w');
  try {
    writeFully(fd, data, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
