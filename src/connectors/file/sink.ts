/**
 * FileSink: a stream Sink that writes rows as files on a file system, partitioned Hive-style
 * by some of the row's fields (Flink's filesystem connector layout, which DuckDB, Spark and
 * Trino read with hive_partitioning):
 *
 *   <path>/<p1>=<v1>/<p2>=<v2>/part-<task>-<writer>-<seq>.<csv|jsonl>
 *
 * Partition values are escaped as Hive escapes them (':' → %3A, '/' → %2F, …; null or '' →
 * __HIVE_DEFAULT_PARTITION__); partition columns are not repeated inside the files. A row is
 * one line: CSV (csv.ts, the `columns` in order, no header) or one JSON object of `columns`.
 *
 * Writing and crash behaviour (Flink's in-progress → finished files):
 *  - rows go to a hidden in-progress file per partition, `.part-….inprogress`, written with
 *    writeSync in chunks of 64 KiB of text; no reader globbing `*.csv` ever sees it;
 *  - prepareCommit() publishes every open file: flush, fsync, close, rename to its final
 *    name, then fsync every directory that received a rename or was created (and the parent
 *    of each created one), so once it returns the files and their names survive a crash;
 *    a file is also published when it reaches `maxFileBytes`;
 *  - a visible file is therefore always complete: kill -9 at any point leaves at most
 *    in-progress files, which the next FileSink of the same task id deletes when it opens
 *    (a task has one live incarnation at a time; other tasks' files are left alone);
 *  - abort() deletes the in-progress files (their rows are replayed from the last commit).
 *
 * Guarantee: at-least-once. Files are published in prepareCommit, before the runtime's
 * committer records the consumed offsets; a crash (or a failed commit) after publishing and
 * before the offsets are durable replays those rows into new files. Nothing is lost: rows
 * are never acknowledged before their file is durable.
 *
 * Concurrency: one sink per task, used from the task's thread only (synchronous I/O on the
 * task thread: writes are batched, fsyncs happen once per file and directory per commit).
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { SluiceError } from '../../common/index.js';
import type { Sink, StreamRecord } from '../../stream/index.js';
import { csvLine } from './csv.js';

export type FileFormat = 'csv' | 'json';

export interface FileSinkOptions {
  /** Root directory (created when missing). */
  readonly path: string;
  /** Fields written into each line, in order. */
  readonly columns: readonly string[];
  /** Fields that name the partition directories, outermost first (not written into lines). */
  readonly partitionBy?: readonly string[];
  /** Default csv. */
  readonly format?: FileFormat;
  /** Publish a partition's file once it holds this many bytes (default 128 MiB). */
  readonly maxFileBytes?: number;
  /** The task writing (file names; in-progress files of this id are cleaned at open). */
  readonly taskId?: string;
  /** fsync files and directories when publishing (default true; false only for throwaway output). */
  readonly fsync?: boolean;
}

export const HIVE_DEFAULT_PARTITION = '__HIVE_DEFAULT_PARTITION__';
const IN_PROGRESS = '.inprogress';
const FLUSH_CHARS = 65_536;

// Hive's FileUtils.escapePathName: control characters, DEL and the characters below as %XX.
const ESCAPED = '"#%\'*/:=?\\{[]^';
export function escapePartitionValue(v: unknown): string {
  if (v === null || v === undefined || v === '') return HIVE_DEFAULT_PARTITION;
  const s = String(v);
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || ESCAPED.includes(s[i]))
      out += `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += s[i];
  }
  return out;
}

interface OpenFile {
  readonly dir: string;
  readonly tmp: string;
  readonly final: string;
  readonly fd: number;
  buf: string;
  bytes: number;
  rows: number;
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');

export class FileSink implements Sink {
  /** Rows written / published, bytes published, files published (for reports and tests). */
  rowsWritten = 0;
  rowsPublished = 0;
  bytesPublished = 0;
  filesPublished = 0;
  private readonly columns: readonly string[];
  private readonly partitionBy: readonly string[];
  private readonly format: FileFormat;
  private readonly maxFileBytes: number;
  private readonly fsync: boolean;
  private readonly prefix: string;
  private readonly ext: string;
  private seq = 0;
  private readonly open = new Map<string, OpenFile>();
  /** Directories whose entries changed since the last publish (created or renamed into). */
  private readonly dirtyDirs = new Set<string>();
  private readonly knownDirs = new Set<string>();
  /** The last record's partition values and file: consecutive rows mostly share a partition. */
  private lastValues: unknown[] = [];
  private lastFile: OpenFile | undefined;

  constructor(
    readonly name: string,
    readonly options: FileSinkOptions,
  ) {
    this.columns = options.columns;
    this.partitionBy = options.partitionBy ?? [];
    this.format = options.format ?? 'csv';
    this.maxFileBytes = options.maxFileBytes ?? 128 * 1024 * 1024;
    this.fsync = options.fsync ?? true;
    this.ext = this.format === 'csv' ? 'csv' : 'jsonl';
    if (this.columns.length === 0) throw new SluiceError('INVALID_CONFIG', `file sink '${name}': no columns`);
    const task = safeName(options.taskId ?? '0');
    this.prefix = `part-${task}-${randomBytes(4).toString('hex')}-`;
    try {
      mkdirSync(options.path, { recursive: true });
    } catch (e) {
      throw new SluiceError('IO', `file sink '${name}': cannot create ${options.path}`, { cause: e });
    }
    this.removeInProgress(options.path, `.part-${task}-`);
  }

  /** Deletes in-progress files this task left behind (a crash before they were published). */
  private removeInProgress(dir: string, startsWith: string): void {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) this.removeInProgress(join(dir, e.name), startsWith);
      else if (e.name.startsWith(startsWith) && e.name.endsWith(IN_PROGRESS)) rmSync(join(dir, e.name));
    }
  }

  write(records: readonly StreamRecord[]): void {
    const cols = this.columns;
    const csv = this.format === 'csv';
    for (let i = 0; i < records.length; i++) {
      const row = records[i].value as Record<string, unknown>;
      let f = this.lastFile;
      if (f === undefined || !this.samePartition(row)) f = this.fileFor(row);
      let line: string;
      if (csv) line = csvLine(row, cols);
      else {
        const o: Record<string, unknown> = {};
        for (let c = 0; c < cols.length; c++) o[cols[c]] = row[cols[c]];
        line = `${JSON.stringify(o)}\n`;
      }
      f.buf += line;
      f.rows++;
      this.rowsWritten++;
      if (f.buf.length >= FLUSH_CHARS) {
        this.flush(f);
        if (f.bytes >= this.maxFileBytes) {
          this.publishFile(f);
          this.syncDirs();
        }
      }
    }
  }

  private samePartition(row: Record<string, unknown>): boolean {
    const pb = this.partitionBy;
    const last = this.lastValues;
    for (let i = 0; i < pb.length; i++) if (row[pb[i]] !== last[i]) return false;
    return true;
  }

  private fileFor(row: Record<string, unknown>): OpenFile {
    const pb = this.partitionBy;
    const values = new Array(pb.length);
    let rel = '';
    for (let i = 0; i < pb.length; i++) {
      values[i] = row[pb[i]];
      rel += `${i === 0 ? '' : sep}${pb[i]}=${escapePartitionValue(values[i])}`;
    }
    this.lastValues = values;
    let f = this.open.get(rel);
    if (f === undefined) {
      const dir = rel === '' ? this.options.path : join(this.options.path, rel);
      this.ensureDir(dir);
      const base = `${this.prefix}${String(this.seq++).padStart(6, '0')}.${this.ext}`;
      const tmp = join(dir, `.${base}${IN_PROGRESS}`);
      let fd: number;
      try {
        fd = openSync(tmp, 'wx');
      } catch (e) {
        throw new SluiceError('IO', `file sink '${this.name}': cannot create ${tmp}`, { cause: e });
      }
      f = { dir, tmp, final: join(dir, base), fd, buf: '', bytes: 0, rows: 0 };
      this.open.set(rel, f);
    }
    this.lastFile = f;
    return f;
  }

  private ensureDir(dir: string): void {
    if (this.knownDirs.has(dir)) return;
    const first = mkdirSync(dir, { recursive: true });
    if (first !== undefined) {
      // Every directory created, and the one that holds the first of them, changed entries.
      for (let d = dir; ; d = dirname(d)) {
        this.dirtyDirs.add(dirname(d));
        if (d === first) break;
      }
    }
    this.knownDirs.add(dir);
  }

  private flush(f: OpenFile): void {
    if (f.buf.length === 0) return;
    const b = Buffer.from(f.buf);
    let off = 0;
    while (off < b.length) off += writeSync(f.fd, b, off, b.length - off);
    f.bytes += b.length;
    f.buf = '';
  }

  private publishFile(f: OpenFile): void {
    this.flush(f);
    if (this.fsync) fsyncSync(f.fd);
    closeSync(f.fd);
    renameSync(f.tmp, f.final);
    this.dirtyDirs.add(f.dir);
    this.filesPublished++;
    this.rowsPublished += f.rows;
    this.bytesPublished += f.bytes;
    for (const [k, v] of this.open) {
      if (v === f) {
        this.open.delete(k);
        break;
      }
    }
    if (this.lastFile === f) this.lastFile = undefined;
  }

  private syncDirs(): void {
    if (this.fsync) {
      for (const d of this.dirtyDirs) {
        const fd = openSync(d, 'r');
        try {
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
    }
    this.dirtyDirs.clear();
  }

  /** Publishes every open file durably (see the header). */
  prepareCommit(): void {
    for (const f of [...this.open.values()]) this.publishFile(f);
    this.syncDirs();
  }

  commit(): void {}

  /** Drops the rows written since the last publish (in-progress files deleted). */
  abort(): void {
    for (const f of this.open.values()) {
      closeSync(f.fd);
      rmSync(f.tmp, { force: true });
      this.rowsWritten -= f.rows;
    }
    this.open.clear();
    this.lastFile = undefined;
  }

  /** Closes without publishing: unpublished rows are dropped like abort(). */
  close(): void {
    this.abort();
  }
}
