/**
 * Durable local implementations of ChangeSink and OffsetStore: an fsync'd append-only
 * file of records and an fsync'd offsets file per slot. For tests (the chaos test kills
 * the connector with SIGKILL) and for running the connector without a Kafka cluster.
 *
 * Record file format: one JSON line per record,
 *   {"t": topic, "k": base64 key | null, "v": base64 value | null, "h": headers?}
 * `send` appends the whole batch with one write and fsyncs before resolving. A torn last
 * line (crash mid-write) is cut off when the file is opened again and skipped by
 * `readFileSinkRecords`, so a record is either fully acknowledged or absent.
 * Offsets: `<dir>/<slot>.offset.json`, replaced by write-temp, fsync, rename, fsync dir.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
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

  private constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  static async open(path: string): Promise<FileChangeSink> {
    await mkdir(dirname(path), { recursive: true });
    // Cut a torn tail so appends start on a line boundary.
    let text: Buffer | undefined;
    try {
      text = readFileSync(path);
    } catch {}
    if (text !== undefined && text.length > 0 && text[text.length - 1] !== 0x0a) {
      const keep = text.lastIndexOf(0x0a) + 1;
      const fd = openSync(path, 'r+');
      try {
        (await import('node:fs')).ftruncateSync(fd, keep);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    const sink = new FileChangeSink(path);
    fsyncDir(dirname(path));
    return sink;
  }

  async send(records: readonly ChangeRecord[]): Promise<void> {
    if (this.fd < 0) throw new SluiceError('CLOSED', 'the file sink is closed');
    if (records.length === 0) return;
    let out = '';
    for (const r of records) {
      out += JSON.stringify({
        t: r.topic,
        k: r.key === null ? null : r.key.toString('base64'),
        v: r.value === null ? null : r.value.toString('base64'),
        ...(r.headers === undefined ? {} : { h: r.headers }),
      });
      out += '\n';
    }
    try {
      const buf = Buffer.from(out, 'utf8');
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off);
      fsyncSync(this.fd);
    } catch (err) {
      throw new SluiceError('IO', `cannot append to ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Reads every complete record of a file sink, in order (a torn last line is ignored). */
export async function readFileSinkRecords(path: string): Promise<ChangeRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  lines.pop(); // after the last newline: empty or torn
  return lines.map((l) => {
    const o = JSON.parse(l) as { t: string; k: string | null; v: string | null; h?: Record<string, string> };
    return {
      topic: o.t,
      key: o.k === null ? null : Buffer.from(o.k, 'base64'),
      value: o.v === null ? null : Buffer.from(o.v, 'base64'),
      ...(o.h === undefined ? {} : { headers: o.h }),
    };
  });
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
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(offset));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
    fsyncDir(this.dir);
  }

  async clear(slot: string): Promise<void> {
    rmSync(this.file(slot), { force: true });
  }

  async close(): Promise<void> {}
}
