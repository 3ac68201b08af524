/**
 * RegistryStorage: where the `_schemas` log lives. The registry's whole persistent
 * state is this log of Confluent-format records (see types.ts); the in-memory state is
 * rebuilt by replaying it, exactly as Confluent's KafkaStore does with the topic.
 *
 * Contract for every implementation:
 *   - `open()` returns every durable record in log order (once, before any append).
 *   - `append(records)` resolves only when the records are durable (fsync / acks=all);
 *     the registry acknowledges a client only after that. Records of one call are
 *     written in order; after a crash a prefix of them may survive (each record is
 *     self-contained, so a prefix is a valid state).
 *   - appends are called one at a time (the registry serializes writes).
 *
 *   - `catchUp()` (optional, for logs other processes may write: the `_schemas` topic) is
 *     called before every write; it returns the durable records this registry has not
 *     applied yet (written by another registry, or by an append of ours that failed with
 *     an unknown outcome), in log order. A storage with catchUp may fail an append without
 *     the registry entering its failed state: the next catchUp reconciles. An append that
 *     fails with a `notStored` error stored nothing, for certain, and is re-planned and
 *     retried after a catchUp.
 *
 * Implementations here: MemoryStorage (tests, embedded throwaway) and FileStorage;
 * TopicStorage (topic-storage.ts) keeps the log in the `_schemas` topic over transport/.
 * FileStorage format: one JSON line per record, `{"key":{…},"value":{…}|null}\n`, in an
 * append-only file `schemas.log`. Each append is one write() followed by fdatasync().
 * Crash behaviour: a torn last line (no trailing newline, or not parseable) is the
 * write that was never acknowledged; open() ignores it and truncates it away so the
 * next append starts on a clean line. A bad line that is NOT the last is corruption
 * and open() fails loudly (CORRUPT_RECORD) instead of silently dropping schemas.
 */
import { closeSync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { SluiceError } from '../common/index.js';
import type { RegistryRecord } from './types.js';

export interface RegistryStorage {
  /** Every durable record, in log order. Called once, before the first append. */
  open(): Promise<RegistryRecord[]>;
  /** Makes the records durable, in order; resolves only once they are. */
  append(records: readonly RegistryRecord[]): Promise<void>;
  /** Records durable but not yet applied by this registry (shared logs only); see the header. */
  catchUp?(): Promise<RegistryRecord[]>;
  close(): Promise<void>;
  /** Human-readable location, for logs. */
  readonly description: string;
}

/** The append stored nothing and never will (e.g. its transaction was fenced): safe to re-plan. */
export function notStored(message: string, cause?: unknown): SluiceError {
  return new SluiceError('PRODUCER_FENCED', message, {
    cause,
    retriable: true,
    details: { notStored: true },
  });
}

export function isNotStored(err: unknown): boolean {
  return err instanceof SluiceError && err.details?.notStored === true;
}

/** Keeps the log in memory: loses everything on exit. Same contract otherwise. */
export class MemoryStorage implements RegistryStorage {
  readonly description = 'memory';
  private readonly log: RegistryRecord[] = [];

  async open(): Promise<RegistryRecord[]> {
    return this.log.map((r) => structuredClone(r));
  }

  async append(records: readonly RegistryRecord[]): Promise<void> {
    for (const r of records) this.log.push(structuredClone(r));
  }

  async close(): Promise<void> {}

  /** The log as stored (for tests and debugging). */
  records(): RegistryRecord[] {
    return this.log.map((r) => structuredClone(r));
  }
}

export const SCHEMAS_LOG_FILE = 'schemas.log';

export class FileStorage implements RegistryStorage {
  readonly description: string;
  private readonly path: string;
  private handle: FileHandle | undefined;
  private closed = false;

  constructor(readonly dir: string) {
    this.path = join(dir, SCHEMAS_LOG_FILE);
    this.description = `file:${this.path}`;
  }

  async open(): Promise<RegistryRecord[]> {
    mkdirSync(this.dir, { recursive: true });
    const handle = await open(this.path, 'a+');
    const records: RegistryRecord[] = [];
    try {
      const buf = await handle.readFile();
      let pos = 0;
      let goodEnd = 0;
      let lineNo = 0;
      while (pos < buf.length) {
        const nl = buf.indexOf(0x0a, pos);
        lineNo++;
        if (nl === -1) break; // torn tail: never acknowledged
        const line = buf.subarray(pos, nl).toString('utf8');
        let parsed: RegistryRecord | undefined;
        try {
          parsed = parseRecord(line);
        } catch (err) {
          if (nl + 1 >= buf.length) break; // a garbled last line is a torn tail too
          throw new SluiceError('CORRUPT_RECORD', `${this.path}: line ${lineNo} is not a valid record`, {
            cause: err,
            details: { path: this.path, line: lineNo },
          });
        }
        records.push(parsed);
        pos = nl + 1;
        goodEnd = pos;
      }
      if (goodEnd < buf.length) {
        await handle.truncate(goodEnd);
        await handle.datasync();
      }
    } catch (err) {
      await handle.close();
      throw err;
    }
    // The file may have just been created: make its directory entry durable too.
    fsyncDir(this.dir);
    this.handle = handle;
    return records;
  }

  async append(records: readonly RegistryRecord[]): Promise<void> {
    if (this.closed) throw new SluiceError('CLOSED', `${this.description} is closed`);
    if (this.handle === undefined) throw new SluiceError('NOT_READY', `${this.description} is not open`);
    if (records.length === 0) return;
    const text = records.map((r) => `${JSON.stringify({ key: r.key, value: r.value })}\n`).join('');
    try {
      await this.handle.appendFile(text, 'utf8');
      await this.handle.datasync();
    } catch (err) {
      throw new SluiceError('IO', `cannot write ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }
}

function parseRecord(line: string): RegistryRecord {
  const obj = JSON.parse(line) as { key?: unknown; value?: unknown };
  if (obj === null || typeof obj !== 'object' || typeof obj.key !== 'object' || obj.key === null) {
    throw new Error('record without a key object');
  }
  const keytype = (obj.key as { keytype?: unknown }).keytype;
  if (typeof keytype !== 'string') throw new Error('record key without keytype');
  if (obj.value !== null && typeof obj.value !== 'object') throw new Error('record value is not an object');
  return { key: obj.key as RegistryRecord['key'], value: (obj.value ?? null) as RegistryRecord['value'] };
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the file's own fsync still holds.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
