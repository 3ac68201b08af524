/**
 * Durable local implementations of ChangeSink and OffsetStore: an fsync'd append-only
 * file of records and an fsync'd offsets file per slot. For tests (the chaos test kills
 * the connector with SIGKILL) and for running the connector without a Kafka cluster.
 *
 * Record file format: a sequence of frames, one per record, all integers big-endian:
 *   u32 frame length (bytes after this field) · u16 topic length · topic (UTF-8) ·
 *   i32 key length (-1: null) · key · i32 value length (-1: tombstone) · value ·
 *   i32 headers length (-1: none) · headers as JSON.
 * `send` appends the whole batch with one write and fsyncs before resolving. A torn last
 * frame (crash mid-write) is cut off when the file is opened again and skipped by
 * `readFileSinkRecords`, so a record is either fully acknowledged or absent.
 * Offsets: `<dir>/<slot>.offset.json`, replaced by write-temp, fsync, rename, fsync dir.
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, readFileSync, rmSync } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SluiceError } from '../../common/index.js';
import type { ChangeRecord, ChangeSink, OffsetStore, SourceOffset } from './sink.js';

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class FileChangeSink implements ChangeSink {
  private fd: number;
  private handle: FileHandle | undefined;

  private constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  private readonly topicCache = new Map<string, Buffer>();

  private topicBytes(topic: string): Buffer {
    let b = this.topicCache.get(topic);
    if (b === undefined) this.topicCache.set(topic, (b = Buffer.from(topic, 'utf8')));
    return b;
  }

  static async open(path: string): Promise<FileChangeSink> {
    await mkdir(dirname(path), { recursive: true });
    // Cut a torn tail so appends start on a frame boundary.
    let data: Buffer | undefined;
    try {
      data = readFileSync(path);
    } catch {}
    if (data !== undefined) {
      const keep = completeLength(data);
      if (keep < data.length) {
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, keep);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
    }
    const sink = new FileChangeSink(path);
    fsyncDir(dirname(path));
    return sink;
  }

  async send(records: readonly ChangeRecord[]): Promise<void> {
    if (this.fd < 0) throw new SluiceError('CLOSED', 'the file sink is closed');
    if (records.length === 0) return;
    // One allocation per batch: frame sizes first, then the bytes.
    const topics = records.map((r) => this.topicBytes(r.topic));
    const headers = records.map((r) =>
      r.headers === undefined ? null : Buffer.from(JSON.stringify(r.headers), 'utf8'),
    );
    let total = 0;
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      total +=
        4 +
        2 +
        topics[i].length +
        12 +
        (r.key?.length ?? 0) +
        (r.value?.length ?? 0) +
        (headers[i]?.length ?? 0);
    }
    const buf = Buffer.allocUnsafe(total);
    let pos = 0;
    const field = (b: Buffer | null) => {
      if (b === null) {
        pos = buf.writeInt32BE(-1, pos);
        return;
      }
      pos = buf.writeInt32BE(b.length, pos);
      pos += b.copy(buf, pos);
    };
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      const t = topics[i];
      const len =
        2 + t.length + 12 + (r.key?.length ?? 0) + (r.value?.length ?? 0) + (headers[i]?.length ?? 0);
      pos = buf.writeUInt32BE(len, pos);
      pos = buf.writeUInt16BE(t.length, pos);
      pos += t.copy(buf, pos);
      field(r.key);
      field(r.value);
      field(headers[i]);
    }
    try {
      // Asynchronous write + fsync: the event loop keeps reading the replication stream
      // meanwhile, so batches grow under load (group commit).
      this.handle ??= await open(this.path, 'a');
      let off = 0;
      while (off < buf.length) off += (await this.handle.write(buf, off)).bytesWritten;
      await this.handle.datasync();
    } catch (err) {
      throw new SluiceError('IO', `cannot append to ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    await this.handle?.close();
    this.handle = undefined;
  }
}

/** Bytes of `data` made of complete frames. */
function completeLength(data: Buffer): number {
  let pos = 0;
  while (pos + 4 <= data.length) {
    const len = data.readUInt32BE(pos);
    if (pos + 4 + len > data.length) break;
    pos += 4 + len;
  }
  return pos;
}

/** Reads every complete record of a file sink, in order (a torn last frame is ignored). */
export async function readFileSinkRecords(path: string): Promise<ChangeRecord[]> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch {
    return [];
  }
  const end = completeLength(data);
  const out: ChangeRecord[] = [];
  let pos = 0;
  const bytes = (): Buffer | null => {
    const n = data.readInt32BE(pos);
    pos += 4;
    if (n < 0) return null;
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  while (pos < end) {
    pos += 4;
    const tlen = data.readUInt16BE(pos);
    pos += 2;
    const topic = data.toString('utf8', pos, pos + tlen);
    pos += tlen;
    const key = bytes();
    const value = bytes();
    const headers = bytes();
    out.push({
      topic,
      key,
      value,
      ...(headers === null
        ? {}
        : { headers: JSON.parse(headers.toString('utf8')) as Record<string, string> }),
    });
  }
  return out;
}

export class FileOffsetStore implements OffsetStore {
  constructor(readonly dir: string) {}

  private file(slot: string): string {
    return join(this.dir, `${slot}.offset.json`);
  }

  async load(slot: string): Promise<SourceOffset | undefined> {
    try {
      return JSON.parse(await readFile(this.file(slot), 'utf8')) as SourceOffset;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SluiceError(
        'CORRUPT_RECORD',
        `cannot read offsets ${this.file(slot)}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  async save(offset: SourceOffset): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const target = this.file(offset.slot);
    const tmp = `${target}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(offset));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
    const dh = await open(this.dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }

  async clear(slot: string): Promise<void> {
    rmSync(this.file(slot), { force: true });
  }

  async close(): Promise<void> {}
}
