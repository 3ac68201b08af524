/**
 * Snapshot format: an engine-independent byte stream of a store's content, for checkpoints
 * and for moving state between engines.
 *
 * Format: "SLST" ‖ version (u8 = 1) ‖ kind (u8: 0 kv, 1 window, 2 session), then rows
 *   u32 BE key length ‖ key bytes ‖ u32 BE value length ‖ value bytes ‖ f64 BE expiresAt
 * in key order, then the trailer u32 0xFFFFFFFF ‖ u32 BE row count. Chunks are ~64 KiB.
 * Invariants: a stream without the trailer (truncated), with a wrong row count or of another
 * store kind throws CORRUPT_RECORD. Rows are applied as they arrive, so store.restore() clears
 * the store first and clears it again on failure: a failed restore leaves it empty, never mixed.
 * Crash behaviour: files are written to `<name>.snapshot.tmp` then renamed, so a crash leaves
 * either the previous snapshot or the new one.
 */
import { createReadStream, createWriteStream, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SluiceError } from '../../common/index.js';
import type { RawRow } from './core.js';
import type { StateStore, StoreKind } from './types.js';

const MAGIC = [0x53, 0x4c, 0x53, 0x54];
const KINDS: StoreKind[] = ['kv', 'window', 'session'];
const CHUNK = 64 * 1024;
const END = 0xffffffff;

export function* encodeSnapshot(kind: StoreKind, rows: Iterable<RawRow>): Iterable<Uint8Array> {
  let buf = Buffer.allocUnsafe(CHUNK);
  let pos = 0;
  const ensure = (n: number): void => {
    if (pos + n <= buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(CHUNK, pos + n));
    buf.copy(next, 0, 0, pos);
    buf = next;
  };
  ensure(6);
  buf.set(MAGIC, 0);
  buf[4] = 1;
  buf[5] = KINDS.indexOf(kind);
  pos = 6;
  let count = 0;
  for (const r of rows) {
    ensure(16 + r.kb.length + r.vb.length);
    buf.writeUInt32BE(r.kb.length, pos);
    buf.set(r.kb, pos + 4);
    pos += 4 + r.kb.length;
    buf.writeUInt32BE(r.vb.length, pos);
    buf.set(r.vb, pos + 4);
    pos += 4 + r.vb.length;
    buf.writeDoubleBE(r.expiresAt, pos);
    pos += 8;
    count++;
    if (pos >= CHUNK) {
      yield buf.subarray(0, pos);
      buf = Buffer.allocUnsafe(CHUNK);
      pos = 0;
    }
  }
  ensure(8);
  buf.writeUInt32BE(END, pos);
  buf.writeUInt32BE(count, pos + 4);
  yield buf.subarray(0, pos + 8);
}

function corrupt(msg: string): SluiceError {
  return new SluiceError('CORRUPT_RECORD', `state snapshot: ${msg}`);
}

/** Parses a snapshot stream, calling onRow per row; returns the row count. */
export async function decodeSnapshot(
  kind: StoreKind,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  onRow: (row: RawRow) => void,
): Promise<number> {
  let rest: Buffer = Buffer.alloc(0);
  let headerDone = false;
  let count = 0;
  let ended = false;
  for await (const chunk of chunks) {
    if (ended) throw corrupt('data after trailer');
    rest = rest.length === 0 ? Buffer.from(chunk) : Buffer.concat([rest, chunk]);
    let p = 0;
    if (!headerDone) {
      if (rest.length < 6) continue;
      if (MAGIC.some((b, i) => rest[i] !== b) || rest[4] !== 1) throw corrupt('bad magic or version');
      if (KINDS[rest[5]] !== kind) throw corrupt(`snapshot of a ${KINDS[rest[5]]} store, not ${kind}`);
      headerDone = true;
      p = 6;
    }
    while (rest.length - p >= 4) {
      const kl = rest.readUInt32BE(p);
      if (kl === END) {
        if (rest.length - p < 8) break;
        if (rest.readUInt32BE(p + 4) !== count) throw corrupt('row count mismatch');
        ended = true;
        p += 8;
        if (p !== rest.length) throw corrupt('data after trailer');
        break;
      }
      if (rest.length - p < 4 + kl + 4) break;
      const vl = rest.readUInt32BE(p + 4 + kl);
      const total = 4 + kl + 4 + vl + 8;
      if (rest.length - p < total) break;
      const kb = rest.subarray(p + 4, p + 4 + kl);
      const vb = rest.subarray(p + 8 + kl, p + 8 + kl + vl);
      onRow({ kb, vb, expiresAt: rest.readDoubleBE(p + 8 + kl + vl) });
      count++;
      p += total;
    }
    rest = rest.subarray(p);
  }
  if (!ended) throw corrupt('truncated (no trailer)');
  return count;
}

function snapshotPath(dir: string, store: StateStore): string {
  return join(dir, `${encodeURIComponent(store.name)}.snapshot`);
}

/** Writes each store's snapshot to `<dir>/<store>.snapshot` (atomically, via rename). */
export async function snapshotToDirectory(dir: string, stores: Iterable<StateStore>): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const store of stores) {
    const path = snapshotPath(dir, store);
    await pipeline(Readable.from(store.snapshot()), createWriteStream(`${path}.tmp`));
    renameSync(`${path}.tmp`, path);
    written.push(path);
  }
  return written;
}

/** Restores each store from `<dir>/<store>.snapshot`. */
export async function restoreFromDirectory(dir: string, stores: Iterable<StateStore>): Promise<void> {
  for (const store of stores) await store.restore(createReadStream(snapshotPath(dir, store)));
}
