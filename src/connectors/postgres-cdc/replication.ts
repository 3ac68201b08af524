/**
 * A walsender client: one `replication=database` connection (node-postgres) that creates
 * slots and streams pgoutput, decoded by pg-logical-replication's PgoutputParser.
 *
 * Why not pg-logical-replication's LogicalReplicationService: its standby status update
 * reports LSN+1 as flushed, and its timer confirms the last *received* LSN. Both can move
 * the slot past changes not yet acknowledged by the sink (a transaction whose commit record
 * starts exactly at the confirmed position would be skipped on restart). Here the flush
 * position sent is exactly the LSN the connector confirmed, nothing else.
 *
 * Column values are left as Postgres's text output (the parser's per-column pg type
 * parsers are replaced by identity), so conversion happens once, in types.ts.
 * Flow control: decoded messages queue in memory; above `highWater` the socket is paused
 * until the consumer drains below `lowWater` (TCP back-pressure reaches the walsender).
 */
import pg from 'pg';
import { type Pgoutput, PgoutputPlugin } from 'pg-logical-replication';
import { SluiceError } from '../../common/index.js';
import { formatLsn, parseLsn } from './lsn.js';

export type Message = Pgoutput.Message;

/** A primary keepalive, queued in stream order: `lsn` is the server's WAL end. */
export interface KeepaliveMessage {
  tag: 'keepalive';
  replyRequested: boolean;
}

export interface StreamedMessage {
  /** WAL position of the message (XLogData's dataStart; for keepalives the server's WAL end). */
  lsn: bigint;
  msg: Message | KeepaliveMessage;
}

const PG_EPOCH_MICROS = 946_684_800_000_000n;
const identity = (v: unknown) => v;

/** Options every Sluice Postgres session runs with, so text output is predictable. */
export const SESSION_OPTIONS =
  '-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=iso_8601 -c extra_float_digits=3';

/** pg client config: values stay text, session options fixed. */
export function clientConfig(url: string, extra: pg.ClientConfig = {}): pg.ClientConfig {
  return {
    connectionString: url,
    options: SESSION_OPTIONS,
    types: { getTypeParser: () => identity as (v: string) => string } as pg.CustomTypesConfig,
    ...extra,
  };
}

export class ReplicationConnection {
  private client: pg.Client | undefined;
  private readonly queue: StreamedMessage[] = [];
  private waiter: (() => void) | undefined;
  private paused = false;
  private ended: Error | null | undefined; // undefined: running; null: ended cleanly
  private statusTimer: NodeJS.Timeout | undefined;
  private confirmed = 0n;
  private received = 0n;
  /** Server WAL end from the latest XLogData or keepalive. */
  serverWalEnd = 0n;
  readonly highWater = 20_000;
  readonly lowWater = 2_000;

  constructor(private readonly url: string) {}

  async connect(): Promise<void> {
    const c = new pg.Client(clientConfig(this.url, { replication: 'database' } as pg.ClientConfig));
    c.on('error', (err) => this.finish(err));
    c.on('end', () => this.finish(new SluiceError('NETWORK', 'the replication connection closed')));
    try {
      await c.connect();
    } catch (err) {
      throw wrapPgError(err, 'cannot open a replication connection');
    }
    this.client = c;
  }

  private get conn(): {
    sendCopyFromChunk(b: Buffer): void;
    stream: { pause(): void; resume(): void };
    on(e: string, f: (...a: never[]) => void): void;
  } {
    return (this.client as unknown as { connection: never }).connection;
  }

  /** CREATE_REPLICATION_SLOT … LOGICAL pgoutput; the exported snapshot lives while this connection idles. */
  async createSlot(
    slot: string,
    exportSnapshot: boolean,
  ): Promise<{ consistentPoint: bigint; snapshotName: string | null }> {
    const c = this.client as pg.Client;
    try {
      const r = await c.query(
        `CREATE_REPLICATION_SLOT "${slot}" LOGICAL pgoutput ${exportSnapshot ? 'EXPORT_SNAPSHOT' : 'NOEXPORT_SNAPSHOT'}`,
      );
      const row = r.rows[0] as { consistent_point: string; snapshot_name: string | null };
      return { consistentPoint: parseLsn(row.consistent_point), snapshotName: row.snapshot_name };
    } catch (err) {
      throw wrapPgError(err, `cannot create replication slot ${slot}`);
    }
  }

  /** START_REPLICATION from `from`; messages are then read with `next()`. */
  async start(slot: string, publication: string, from: bigint): Promise<void> {
    const c = this.client as pg.Client;
    const parser = new PgoutputPlugin({ protoVersion: 1, publicationNames: [publication], messages: true });
    this.confirmed = from;
    this.received = from;
    const conn = this.conn;
    const started = new Promise<void>((resolve) => conn.on('replicationStart', () => resolve()));
    conn.on('copyData', ({ chunk }: { chunk: Buffer }) => {
      if (chunk[0] === 0x77) {
        const dataStart = chunk.readBigUInt64BE(1);
        const walEnd = chunk.readBigUInt64BE(9);
        if (walEnd > this.serverWalEnd) this.serverWalEnd = walEnd;
        let msg: Message;
        try {
          msg = parser.parse(chunk.subarray(25));
        } catch (err) {
          this.finish(new SluiceError('PROTOCOL', `cannot decode pgoutput: ${(err as Error).message}`));
          return;
        }
        if (msg.tag === 'relation') for (const col of msg.columns) col.parser = identity;
        if (dataStart > this.received) this.received = dataStart;
        this.queue.push({ lsn: dataStart, msg });
        if (!this.paused && this.queue.length >= this.highWater) {
          this.paused = true;
          conn.stream.pause();
        }
        this.wake();
      } else if (chunk[0] === 0x6b) {
        const walEnd = chunk.readBigUInt64BE(1);
        if (walEnd > this.serverWalEnd) this.serverWalEnd = walEnd;
        // In stream order: once processed, every commit before walEnd has been seen.
        this.queue.push({ lsn: walEnd, msg: { tag: 'keepalive', replyRequested: chunk[17] === 1 } });
        this.wake();
        if (chunk[17] === 1) this.sendStatus(false);
      }
    });
    // The START_REPLICATION query settles only when the stream ends.
    c.query(
      `START_REPLICATION SLOT "${slot}" LOGICAL ${formatLsn(from)} (proto_version '1', publication_names '${publication}', messages 'true')`,
    ).then(
      () => this.finish(null),
      (err) => this.finish(wrapPgError(err, `replication from slot ${slot} failed`)),
    );
    await Promise.race([started, this.endedPromise()]);
    if (this.ended) throw this.ended;
    this.statusTimer = setInterval(() => this.sendStatus(false), 1000);
    this.statusTimer.unref();
  }

  private endedPromise(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => (this.ended !== undefined ? resolve() : setTimeout(check, 20).unref());
      check();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private finish(err: Error | null): void {
    if (this.ended !== undefined) return;
    this.ended = err;
    if (this.statusTimer !== undefined) clearInterval(this.statusTimer);
    this.wake();
  }

  /** Ends the stream with `err` (next() throws it once the queue is drained... or at once). */
  abort(err: Error): void {
    this.queue.length = 0;
    this.finish(err);
  }

  /** Takes every queued message (waits for at least one); throws when the stream ended. */
  async next(): Promise<StreamedMessage[]> {
    while (this.queue.length === 0) {
      if (this.ended !== undefined) {
        throw this.ended ?? new SluiceError('CLOSED', 'the replication stream ended');
      }
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
    const out = this.queue.splice(0, this.queue.length);
    if (this.paused && this.queue.length <= this.lowWater) {
      this.paused = false;
      this.conn.stream.resume();
    }
    return out;
  }

  /** Moves the flush position reported to Postgres (never backwards). */
  confirm(lsn: bigint): void {
    if (lsn <= this.confirmed) return;
    this.confirmed = lsn;
    this.sendStatus(false);
  }

  get confirmedLsn(): bigint {
    return this.confirmed;
  }

  private sendStatus(reply: boolean): void {
    if (this.ended !== undefined || this.client === undefined) return;
    const b = Buffer.alloc(34);
    b[0] = 0x72; // 'r'
    b.writeBigUInt64BE(this.received > this.confirmed ? this.received : this.confirmed, 1); // written
    b.writeBigUInt64BE(this.confirmed, 9); // flushed: what the slot may advance to
    b.writeBigUInt64BE(this.confirmed, 17); // applied
    b.writeBigUInt64BE(BigInt(Date.now()) * 1000n - PG_EPOCH_MICROS, 25);
    b[33] = reply ? 1 : 0;
    try {
      this.conn.sendCopyFromChunk(b);
    } catch (err) {
      this.finish(new SluiceError('NETWORK', `cannot send standby status: ${(err as Error).message}`));
    }
  }

  async close(): Promise<void> {
    this.finish(null);
    const c = this.client;
    this.client = undefined;
    if (c === undefined) return;
    // A streaming connection ends with CopyDone; `end()` then closes the socket.
    try {
      (c as unknown as { connection: { sendCopyDone?: () => void } }).connection.sendCopyDone?.();
    } catch {}
    await Promise.race([c.end().catch(() => {}), new Promise((r) => setTimeout(r, 2000).unref())]);
  }
}

/** Maps node-postgres errors to SluiceErrors with a clear message and the right code. */
export function wrapPgError(err: unknown, context: string): SluiceError {
  if (err instanceof SluiceError) return err;
  const e = err as { code?: string; message?: string };
  const msg = `${context}: ${e.message ?? String(err)}`;
  const code = e.code ?? '';
  if (
    code === '42501' ||
    /permission denied|must be superuser|must have replication|must be owner/i.test(msg)
  )
    return new SluiceError('PERMISSION_DENIED', msg, { cause: err, details: { sqlState: code } });
  if (code === '42704' && /replication slot/i.test(msg))
    return new SluiceError('SOURCE_LOST', msg, { cause: err, details: { sqlState: code } });
  if (code === '55006')
    return new SluiceError('NOT_READY', msg, { cause: err, retriable: true, details: { sqlState: code } });
  if (
    code === '55000' ||
    code === '42P01' ||
    code === '42704' ||
    code === '3D000' ||
    code === '28000' ||
    code === '28P01'
  )
    return new SluiceError('INVALID_CONFIG', msg, { cause: err, details: { sqlState: code } });
  if (
    code.startsWith('57P') ||
    code.startsWith('08') ||
    code === '' ||
    /ECONNREFUSED|ECONNRESET|terminat/i.test(msg)
  )
    return new SluiceError('NETWORK', msg, { cause: err, retriable: true, details: { sqlState: code } });
  return new SluiceError('IO', msg, { cause: err, details: { sqlState: code } });
}
