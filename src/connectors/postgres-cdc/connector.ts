/**
 * PostgresCdcSource: Debezium-compatible change data capture from Postgres.
 *
 * Lifecycle: check the server (wal_level, replication right) → describe the tables →
 * ensure the publication → load the source offset for the slot → create the slot if
 * missing (exporting its snapshot) → initial snapshot (op `r`, chunked by primary key) →
 * stream pgoutput from the offset's LSN.
 *
 * Invariants:
 *  - No loss: the slot's confirmed flush LSN moves to a transaction's commit END LSN only
 *    after the sink acknowledged every record up to that commit and the offset store saved
 *    an offset with that LSN. Replay after any crash starts at the saved offset, so each
 *    change is delivered at least once; duplicates are the records after the last saved offset.
 *  - No gap, no overlap between snapshot and stream: the snapshot reads the snapshot the slot
 *    exported at its consistent point; streaming starts at that point.
 *  - Order: records are produced in commit order (pgoutput's order); one send in flight.
 *
 * Crash during the snapshot: the exported snapshot dies with its connection, so a resumed
 * snapshot continues each table after its last saved key with a *fresh* snapshot, while
 * streaming still starts at the slot's consistent point. Rows changed after the slot was
 * created may then be seen twice (newer in the snapshot, then replayed by the stream);
 * the stream ends at the true final state (at-least-once, as Debezium's incremental snapshots).
 * A table without a key (REPLICA IDENTITY FULL) restarts its snapshot from the start.
 *
 * Connection loss while streaming: retriable errors reconnect with backoff (from the last
 * saved offset); non-retriable ones (slot dropped, permission revoked) end `done` with the error.
 */
import pg from 'pg';
import { createLogger, SluiceError, toSluiceError } from '../../common/index.js';
import type { RegistryClient } from '../../registry/index.js';
import {
  checkServer,
  describeTables,
  ensurePublication,
  findSlot,
  qualified,
  quoteIdent,
  type TableInfo,
  TypeCatalog,
} from './catalog.js';
import {
  AvroEncoder,
  type ColumnDesc,
  type Format,
  JsonEncoder,
  type Op,
  type RecordEncoder,
  type SourceInfo,
  TableModel,
  type TextTuple,
  type TransactionBlock,
  toJson,
} from './envelope.js';
import { formatLsn, lsnToNumber, parseLsn } from './lsn.js';
import {
  clientConfig,
  type Message,
  ReplicationConnection,
  type StreamedMessage,
  wrapPgError,
} from './replication.js';
import type { ChangeRecord, ChangeSink, OffsetStore, SourceOffset, TableSnapshotProgress } from './sink.js';
import type { DecimalMode } from './types.js';

export interface SnapshotProgress {
  table: string;
  rows: number;
  done: boolean;
  /** Tables finished / all tables. */
  tablesDone: number;
  tablesTotal: number;
}

export interface PostgresCdcOptions {
  /** postgres://user:pass@host:port/db */
  url: string;
  /** `schema.table` (schema defaults to public). */
  tables: readonly string[];
  topicPrefix: string;
  sink: ChangeSink;
  offsets: OffsetStore;
  /** Replication slot (default `sluice_<prefix>`). */
  slot?: string;
  /** Publication (default `sluice_<prefix>`). */
  publication?: string;
  format?: Format;
  /** Needed for `avro`. */
  registry?: RegistryClient;
  snapshot?: 'initial' | 'never';
  snapshotChunkRows?: number;
  decimalMode?: DecimalMode;
  /** Also write BEGIN/END records to `<prefix>.transaction` and a `transaction` block in events. */
  transactionTopic?: boolean;
  /** A null-valued record after each delete (default true), for log compaction. */
  tombstones?: boolean;
  /** Emit a logical message this often so an idle slot keeps advancing (0: off; default 10 s). */
  heartbeatIntervalMs?: number;
  /** Records per sink call, at most (default 10 000). */
  maxBatchRecords?: number;
  noPrimaryKey?: 'error' | 'replica-identity-full';
  /** Reconnect on retriable errors while streaming (default: forever, 200 ms doubling to 5 s). */
  reconnect?: { maxAttempts?: number; initialBackoffMs?: number; maxBackoffMs?: number };
  onSnapshotProgress?: (p: SnapshotProgress) => void;
  /** Called for each retriable error that led to a reconnect. */
  onReconnect?: (err: SluiceError, attempt: number) => void;
}

interface Tx {
  xid: number;
  commitLsn: bigint;
  tsMs: number;
  total: number;
  perTable: Map<string, number>;
}

/** A snapshot row: column texts in attribute order. */
type Row = (string | null)[];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HEARTBEAT_PREFIX = 'sluice.heartbeat';

function defaultName(prefix: string): string {
  return `sluice_${prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
}

export class PostgresCdcSource {
  readonly slot: string;
  readonly publication: string;
  private readonly log;
  private readonly opts: Required<
    Pick<
      PostgresCdcOptions,
      | 'format'
      | 'snapshot'
      | 'snapshotChunkRows'
      | 'decimalMode'
      | 'transactionTopic'
      | 'tombstones'
      | 'heartbeatIntervalMs'
      | 'maxBatchRecords'
      | 'noPrimaryKey'
    >
  >;
  private readonly encoder: RecordEncoder;
  private readonly types = new TypeCatalog();
  private tables: TableInfo[] = [];
  private tableByName = new Map<string, TableInfo>();
  private database = '';
  private offset: SourceOffset | undefined;
  private meta: pg.Client | undefined;
  private rc: ReplicationConnection | undefined;
  private stopping = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private runPromise: Promise<void> | undefined;
  private streamingStarted: (() => void) | undefined;

  // streaming state (per session)
  private models = new Map<number, TableModel>();
  private modelBySignature = new Map<string, TableModel>();
  private tx: Tx | undefined;
  private lastCommitLsn = 0n;
  private batch: ChangeRecord[] = [];
  private batchCommit: { lsn: bigint; txId: number } | null = null;
  private flushing: Promise<void> | undefined;
  /** Highest commit whose records the sink acknowledged but whose offset is not saved yet. */
  private ackedCommit: { lsn: bigint; txId: number } | null = null;
  private lastOffsetSave = 0;
  private readonly offsetIntervalMs = 50;
  private flushError: SluiceError | undefined;

  /** Counters for the ops module. */
  readonly stats = {
    snapshotRows: 0,
    /** Wall time of the snapshot phase itself (reading, converting, writing), ms. */
    snapshotMs: 0,
    changes: 0,
    transactions: 0,
    reconnects: 0,
    heartbeats: 0,
    flushes: 0,
  };

  constructor(readonly options: PostgresCdcOptions) {
    if (options.tables.length === 0) throw new SluiceError('INVALID_ARGUMENT', 'no tables to capture');
    if (!/^[A-Za-z0-9_.-]+$/.test(options.topicPrefix))
      throw new SluiceError(
        'INVALID_ARGUMENT',
        `topic prefix '${options.topicPrefix}' may use only letters, digits, _ . -`,
      );
    this.slot = options.slot ?? defaultName(options.topicPrefix);
    this.publication = options.publication ?? defaultName(options.topicPrefix);
    if (!/^[a-z0-9_]{1,63}$/.test(this.slot))
      throw new SluiceError('INVALID_ARGUMENT', `slot name '${this.slot}' must be 1-63 of a-z, 0-9, _`);
    this.opts = {
      format: options.format ?? 'json',
      snapshot: options.snapshot ?? 'initial',
      snapshotChunkRows: options.snapshotChunkRows ?? 10_000,
      decimalMode: options.decimalMode ?? 'precise',
      transactionTopic: options.transactionTopic ?? false,
      tombstones: options.tombstones ?? true,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 10_000,
      maxBatchRecords: options.maxBatchRecords ?? 10_000,
      noPrimaryKey: options.noPrimaryKey ?? 'error',
    };
    if (this.opts.format === 'avro') {
      if (options.registry === undefined)
        throw new SluiceError(
          'INVALID_ARGUMENT',
          "format 'avro' needs a schema registry (registry option / --registry)",
        );
      this.encoder = new AvroEncoder(options.registry);
    } else this.encoder = new JsonEncoder(this.opts.format === 'json-schema');
    this.log = createLogger('connectors', { connector: 'postgres-cdc', slot: this.slot });
  }

  /** Bytes of WAL the slot holds beyond what the connector confirmed (0 before streaming). */
  slotLagBytes(): number {
    const rc = this.rc;
    if (rc === undefined || rc.serverWalEnd === 0n) return 0;
    const lag = rc.serverWalEnd - rc.confirmedLsn;
    return lag > 0n ? Number(lag) : 0;
  }

  /** The last offset saved (undefined before the first save). */
  currentOffset(): SourceOffset | undefined {
    return this.offset;
  }

  /**
   * Sets up, snapshots, and starts streaming; resolves once streaming has begun.
   * `done` settles when the source stops (resolves) or fails for good (rejects).
   */
  async start(): Promise<void> {
    if (this.runPromise !== undefined)
      throw new SluiceError('INVALID_ARGUMENT', 'the source was already started');
    let startedResolve!: () => void;
    const started = new Promise<void>((r) => {
      startedResolve = r;
    });
    this.streamingStarted = startedResolve;
    this.runPromise = this.run();
    this.runPromise.catch(() => {});
    await Promise.race([started, this.runPromise]);
  }

  get done(): Promise<void> {
    return this.runPromise ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.heartbeatTimer !== undefined) clearInterval(this.heartbeatTimer);
    await this.rc?.close();
    try {
      await this.runPromise;
    } catch {}
  }

  private async metaClient(): Promise<pg.Client> {
    if (this.meta !== undefined) return this.meta;
    const c = new pg.Client(clientConfig(this.options.url));
    c.on('error', () => {
      if (this.meta === c) this.meta = undefined;
    });
    try {
      await c.connect();
    } catch (err) {
      throw wrapPgError(err, 'cannot connect to Postgres');
    }
    this.meta = c;
    return c;
  }

  private async closeMeta(): Promise<void> {
    const c = this.meta;
    this.meta = undefined;
    await c?.end().catch(() => {});
  }

  private async run(): Promise<void> {
    try {
      await this.setup();
      await this.streamLoop();
    } finally {
      if (this.heartbeatTimer !== undefined) clearInterval(this.heartbeatTimer);
      await this.closeMeta();
    }
  }

  private async saveOffset(o: SourceOffset): Promise<void> {
    o.ts_ms = Date.now();
    await this.options.offsets.save(o);
    this.offset = o;
  }

  private async setup(): Promise<void> {
    const meta = await this.metaClient();
    this.database = (await checkServer(meta)).database;
    this.tables = await describeTables(meta, this.options.tables, this.opts.noPrimaryKey);
    this.tableByName = new Map(this.tables.map((t) => [`${t.schema}.${t.table}`, t]));
    await ensurePublication(meta, this.publication, this.tables);
    await this.types.load(
      meta,
      this.tables.flatMap((t) => t.columns.map((c) => c.typeOid)),
    );
    let offset = await this.options.offsets.load(this.slot);
    const slot = await findSlot(meta, this.slot);
    const initial = this.opts.snapshot === 'initial';
    if (slot === undefined) {
      if (offset !== undefined) {
        throw new SluiceError(
          'SOURCE_LOST',
          `replication slot ${this.slot} no longer exists, but the stored offset says changes were streamed up to ` +
            `${offset.lsn}: changes committed after that may be gone from the WAL. Nothing acknowledged was lost; ` +
            `to start over with a fresh snapshot, clear the offsets of slot ${this.slot} (sluice cdc postgres --reset-offsets)`,
          { details: { slot: this.slot, lsn: offset.lsn } },
        );
      }
      const rc = new ReplicationConnection(this.options.url);
      await rc.connect();
      try {
        const created = await rc.createSlot(this.slot, initial);
        this.log.info({ consistentPoint: formatLsn(created.consistentPoint) }, 'created replication slot');
        offset = {
          slot: this.slot,
          lsn: formatLsn(created.consistentPoint),
          txId: null,
          ...(initial ? { snapshot: { completed: false, tables: {} } } : {}),
          ts_ms: Date.now(),
        };
        await this.saveOffset(offset);
        if (initial) await this.runSnapshot(created.snapshotName);
      } finally {
        await rc.close();
      }
    } else {
      if (slot.plugin !== 'pgoutput' || slot.database !== this.database)
        throw new SluiceError(
          'INVALID_CONFIG',
          `replication slot ${this.slot} exists for plugin ${slot.plugin} on database ${slot.database}; ` +
            `the connector needs a pgoutput slot on ${this.database} (choose another --slot)`,
        );
      if (offset === undefined) {
        offset = {
          slot: this.slot,
          lsn: slot.confirmedFlush ?? '0/0',
          txId: null,
          ...(initial ? { snapshot: { completed: false, tables: {} } } : {}),
          ts_ms: Date.now(),
        };
        await this.saveOffset(offset);
      }
      this.offset = offset;
      if (offset.snapshot !== undefined && !offset.snapshot.completed) {
        this.log.warn(
          'resuming an unfinished snapshot with a fresh snapshot (at-least-once for rows changed since)',
        );
        await this.runSnapshot(null);
      }
    }
  }

  // ---- snapshot ------------------------------------------------------------------------

  private async runSnapshot(snapshotName: string | null): Promise<void> {
    const offset = this.offset as SourceOffset;
    const progress = offset.snapshot ?? { completed: false, tables: {} };
    const c = new pg.Client(clientConfig(this.options.url));
    try {
      await c.connect();
    } catch (err) {
      throw wrapPgError(err, 'cannot connect for the snapshot');
    }
    try {
      const snapshotStarted = performance.now();
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      if (snapshotName !== null) await c.query(`SET TRANSACTION SNAPSHOT '${snapshotName}'`);
      const startedMs = Date.now();
      const lsnNum = lsnToNumber(parseLsn(offset.lsn));
      let tablesDone = this.tables.filter(
        (t) => progress.tables[`${t.schema}.${t.table}`]?.done === true,
      ).length;
      for (let ti = 0; ti < this.tables.length; ti++) {
        const t = this.tables[ti];
        const name = `${t.schema}.${t.table}`;
        let p: TableSnapshotProgress = progress.tables[name] ?? { done: false, lastKey: null, rows: 0 };
        if (p.done) continue;
        if (t.key.length === 0) p = { done: false, lastKey: null, rows: 0 }; // key-less: restart the table
        const model = await this.modelFor(t, t.columns);
        const isLastTable = ti === this.tables.length - 1;
        const src: SourceInfo = {
          ts_ms: startedMs,
          snapshot: 'true',
          sequence: null,
          txId: null,
          lsn: lsnNum,
        };
        const n = this.opts.snapshotChunkRows;
        const keyList = t.key.map(quoteIdent).join(', ');
        const selectList = t.columns.map((col) => quoteIdent(col.name)).join(', ');
        const keyIdx = t.key.map((k) => t.columns.findIndex((col) => col.name === k));
        const fetchChunk =
          t.key.length === 0
            ? await (async () => {
                await c.query(
                  `DECLARE sluice_snapshot NO SCROLL CURSOR FOR SELECT ${selectList} FROM ${qualified(t.schema, t.table)}`,
                );
                return async () =>
                  (await c.query({ text: `FETCH ${n} FROM sluice_snapshot`, rowMode: 'array' }))
                    .rows as Row[];
              })()
            : async (after: (string | null)[] | null) => {
                const where =
                  after === null
                    ? ''
                    : `WHERE (${keyList}) > (${t.key.map((_, i) => `$${i + 1}::${t.keyTypes[i]}`).join(', ')})`;
                const r = await c.query({
                  text: `SELECT ${selectList} FROM ${qualified(t.schema, t.table)} ${where} ORDER BY ${keyList} LIMIT ${n}`,
                  values: after ?? [],
                  rowMode: 'array',
                });
                return r.rows as Row[];
              };
        let rows: Row[];
        // The previous chunk's write, and the save of its progress (chained in chunk order).
        let written: Promise<void> = Promise.resolve();
        let saved: Promise<void> = Promise.resolve();
        let saveError: unknown;
        try {
          rows = await fetchChunk(p.lastKey);
        } catch (err) {
          throw wrapPgError(err, `snapshot of ${name} failed`);
        }
        while (rows.length > 0) {
          const last = rows[rows.length - 1];
          const lastKey = keyIdx.map((i) => last[i] ?? null);
          const nextP: Promise<Row[]> = rows.length < n ? Promise.resolve([]) : fetchChunk(lastKey);
          nextP.catch(() => {});
          const kvs = this.encoder.snapshotRecords(
            model,
            rows,
            src,
            isLastTable && rows.length < n ? { ...src, snapshot: 'last' } : null,
          );
          const records: ChangeRecord[] = new Array(kvs.length);
          for (let i = 0; i < kvs.length; i++)
            records[i] = { topic: model.topic, key: kvs[i].key, value: kvs[i].value };
          // Chunk k is written while chunk k+1 is fetched and converted; writes stay in order
          // because each waits for the previous one. A chunk's progress is saved once it is
          // written (and after the previous save), without holding up the next write: a crash
          // then re-reads at most the chunks written since the last save (at-least-once).
          await written;
          if (saveError !== undefined) throw saveError;
          p = { done: false, lastKey, rows: p.rows + rows.length };
          const chunkProgress = p;
          const write = this.options.sink.send(records).then(() => {
            this.stats.snapshotRows += records.length;
          });
          written = write;
          written.catch(() => {});
          const previousSave = saved;
          saved = (async () => {
            await write;
            await previousSave;
            progress.tables[name] = chunkProgress;
            await this.saveOffset({ ...offset, snapshot: structuredClone(progress) });
            this.options.onSnapshotProgress?.({
              table: name,
              rows: chunkProgress.rows,
              done: false,
              tablesDone,
              tablesTotal: this.tables.length,
            });
          })();
          saved.catch((err: unknown) => {
            saveError ??= err;
          });
          if (this.stopping) throw new SluiceError('CLOSED', 'stopped during the snapshot');
          try {
            rows = await nextP;
          } catch (err) {
            throw wrapPgError(err, `snapshot of ${name} failed`);
          }
        }
        await written;
        await saved;
        if (t.key.length === 0) await c.query('CLOSE sluice_snapshot');
        progress.tables[name] = { ...p, done: true };
        tablesDone++;
        await this.saveOffset({ ...offset, snapshot: structuredClone(progress) });
        this.options.onSnapshotProgress?.({
          table: name,
          rows: p.rows,
          done: true,
          tablesDone,
          tablesTotal: this.tables.length,
        });
      }
      await c.query('COMMIT');
      this.stats.snapshotMs += performance.now() - snapshotStarted;
      progress.completed = true;
      await this.saveOffset({ ...offset, snapshot: structuredClone(progress) });
      this.log.info({ rows: this.stats.snapshotRows }, 'snapshot completed');
    } finally {
      await c.end().catch(() => {});
    }
  }

  private async modelFor(t: TableInfo, columns: readonly ColumnDesc[]): Promise<TableModel> {
    const probe = new TableModel(t.schema, t.table, columns, (o) => this.types.get(o), {
      topicPrefix: this.options.topicPrefix,
      database: this.database,
      decimalMode: this.opts.decimalMode,
    });
    const known = this.modelBySignature.get(`${t.schema}.${t.table}:${probe.signature}`);
    if (known !== undefined) return known;
    await this.encoder.prepare(probe);
    this.modelBySignature.set(`${t.schema}.${t.table}:${probe.signature}`, probe);
    return probe;
  }

  // ---- streaming -----------------------------------------------------------------------

  private async streamLoop(): Promise<void> {
    const rcfg = this.options.reconnect ?? {};
    const maxAttempts = rcfg.maxAttempts ?? Number.POSITIVE_INFINITY;
    const initialBackoff = rcfg.initialBackoffMs ?? 200;
    const maxBackoff = rcfg.maxBackoffMs ?? 5000;
    let attempt = 0;
    this.startHeartbeats();
    while (!this.stopping) {
      let progressed = false;
      try {
        await this.streamSession(() => {
          progressed = true;
        });
        return;
      } catch (err) {
        const e = toSluiceError(err, 'IO');
        if (this.stopping) return;
        if (progressed) attempt = 0;
        attempt++;
        if (!e.retriable || attempt > maxAttempts) throw e;
        this.stats.reconnects++;
        this.options.onReconnect?.(e, attempt);
        this.log.warn(
          { err: e.message, attempt },
          'replication interrupted; reconnecting from the last saved offset',
        );
        await sleep(Math.min(maxBackoff, initialBackoff * 2 ** Math.min(attempt - 1, 10)));
      }
    }
  }

  private startHeartbeats(): void {
    const every = this.opts.heartbeatIntervalMs;
    if (every <= 0) return;
    this.heartbeatTimer = setInterval(() => {
      void this.heartbeat();
    }, every);
    this.heartbeatTimer.unref();
  }

  /** Writes a transactional logical message: its commit lets the slot advance on idle tables. */
  async heartbeat(): Promise<void> {
    try {
      const c = await this.metaClient();
      await c.query(`SELECT pg_logical_emit_message(true, '${HEARTBEAT_PREFIX}', '')`);
      this.stats.heartbeats++;
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'heartbeat failed');
      await this.closeMeta();
    }
  }

  private async streamSession(onProgress: () => void): Promise<void> {
    // A fresh session replays from the last saved offset: forget everything unsaved.
    this.models.clear();
    this.tx = undefined;
    this.batch = [];
    this.batchCommit = null;
    this.ackedCommit = null;
    this.flushError = undefined;
    const offset = this.offset as SourceOffset;
    const from = parseLsn(offset.lsn);
    this.lastCommitLsn = from;
    const rc = new ReplicationConnection(this.options.url);
    this.rc = rc;
    try {
      await rc.connect();
      // A slot still held by a previous session (a killed process's walsender) fails with
      // 55006 → NOT_READY, retriable: streamLoop retries with a new connection.
      await rc.start(this.slot, this.publication, from);
      this.streamingStarted?.();
      onProgress();
      for (;;) {
        let msgs: StreamedMessage[];
        try {
          msgs = await rc.next();
        } catch (err) {
          if (this.flushError !== undefined) throw this.flushError;
          if (this.stopping) break;
          throw err;
        }
        for (const m of msgs) {
          if (m.msg.tag === 'relation') await this.onRelation(m.msg);
          else this.handle(m);
        }
        if (this.flushError !== undefined) throw this.flushError;
        this.kick();
        if (this.batch.length >= this.opts.maxBatchRecords && this.flushing !== undefined)
          await this.flushing;
        onProgress();
      }
      // Stopping: deliver what is complete, then return.
      while (
        this.flushing !== undefined ||
        this.batch.length > 0 ||
        this.batchCommit !== null ||
        this.ackedCommit !== null
      ) {
        if (this.flushing === undefined && this.batchCommit === null && this.batch.length === 0) {
          this.batchCommit = this.ackedCommit;
          this.ackedCommit = null;
        }
        this.kick();
        if (this.flushing !== undefined) await this.flushing;
        if (this.flushError !== undefined) throw this.flushError;
      }
    } finally {
      if (this.flushing !== undefined) await this.flushing.catch(() => {});
      await rc.close();
    }
  }

  private kick(): void {
    if (this.flushing !== undefined || this.flushError !== undefined) return;
    if (this.batch.length === 0 && this.batchCommit === null) return;
    const records = this.batch;
    const commit = this.batchCommit;
    this.batch = [];
    this.batchCommit = null;
    const rc = this.rc as ReplicationConnection;
    this.flushing = (async () => {
      const max = this.opts.maxBatchRecords;
      for (let i = 0; i < records.length; i += max)
        await this.options.sink.send(records.length <= max ? records : records.slice(i, i + max));
      this.stats.flushes++;
      if (commit !== null) this.ackedCommit = commit;
      // The offset is saved (then the slot confirmed) at most every offsetIntervalMs while
      // more records are waiting, and at once when the stream is idle: fewer fsyncs under
      // load; after a crash the replay re-sends at most that interval's records.
      const acked = this.ackedCommit;
      if (
        acked !== null &&
        (this.batch.length === 0 || Date.now() - this.lastOffsetSave >= this.offsetIntervalMs)
      ) {
        this.ackedCommit = null;
        this.lastOffsetSave = Date.now();
        const o = this.offset as SourceOffset;
        await this.saveOffset({ ...o, lsn: formatLsn(acked.lsn), txId: acked.txId });
        rc.confirm(acked.lsn);
      }
    })().then(
      () => {
        this.flushing = undefined;
        // Records that arrived meanwhile (or an offset still unsaved) go out now.
        if (this.batch.length > 0 || this.batchCommit !== null || this.ackedCommit !== null) {
          if (this.batchCommit === null && this.ackedCommit !== null && this.batch.length === 0) {
            this.batchCommit = this.ackedCommit;
            this.ackedCommit = null;
          }
          this.kick();
        }
      },
      (err) => {
        this.flushing = undefined;
        this.flushError = toSluiceError(err, 'IO');
        rc.abort(this.flushError); // wakes the session, which ends with this error
      },
    );
  }

  private async onRelation(msg: Extract<Message, { tag: 'relation' }>): Promise<void> {
    const t = this.tableByName.get(`${msg.schema}.${msg.name}`);
    if (t === undefined) return; // not captured (publication holds more tables)
    const oids = msg.columns.map((c) => c.typeOid).filter((o) => this.types.get(o) === undefined);
    if (oids.length > 0) {
      try {
        await this.types.load(await this.metaClient(), oids);
      } catch (err) {
        throw wrapPgError(err, 'cannot read column types');
      }
    }
    const key = new Set(t.key);
    const cols: ColumnDesc[] = msg.columns.map((c) => ({
      name: c.name,
      typeOid: c.typeOid,
      typeMod: c.typeMod,
      isKey: key.has(c.name),
    }));
    this.models.set(msg.relationOid, await this.modelFor(t, cols));
  }

  private push(
    model: TableModel,
    op: Op,
    keyTuple: TextTuple | null,
    before: TextTuple | null,
    beforeKeyOnly: boolean,
    after: TextTuple | null,
    lsn: bigint,
    headers?: Record<string, string>,
  ): void {
    const tx = this.tx;
    let block: TransactionBlock | null = null;
    const src: SourceInfo = {
      ts_ms: tx?.tsMs ?? Date.now(),
      snapshot: 'false',
      sequence: `["${this.lastCommitLsn}","${lsn}"]`,
      txId: tx?.xid ?? null,
      lsn: lsnToNumber(lsn),
    };
    if (tx !== undefined) {
      if (tx.total === 0 && this.opts.transactionTopic) this.txRecord('BEGIN', tx);
      tx.total++;
      const name = `${model.schema}.${model.table}`;
      const n = (tx.perTable.get(name) ?? 0) + 1;
      tx.perTable.set(name, n);
      if (this.opts.transactionTopic)
        block = {
          id: `${tx.xid}:${lsnToNumber(tx.commitLsn)}`,
          total_order: tx.total,
          data_collection_order: n,
        };
    }
    this.stats.changes++;
    this.batch.push({
      topic: model.topic,
      key: keyTuple === null ? null : this.encoder.key(model, keyTuple),
      value: this.encoder.value(model, op, before, beforeKeyOnly, after, src, block),
      ...(headers === undefined ? {} : { headers }),
    });
  }

  private tombstone(model: TableModel, keyTuple: TextTuple): void {
    if (!this.opts.tombstones) return;
    const key = this.encoder.key(model, keyTuple);
    if (key === null) return;
    this.batch.push({ topic: model.topic, key, value: null });
  }

  private txRecord(status: 'BEGIN' | 'END', tx: Tx): void {
    const id = `${tx.xid}:${lsnToNumber(tx.commitLsn)}`;
    const value = {
      status,
      id,
      event_count: status === 'END' ? tx.total : null,
      data_collections:
        status === 'END'
          ? [...tx.perTable].map(([data_collection, event_count]) => ({ data_collection, event_count }))
          : null,
      ts_ms: tx.tsMs,
    };
    this.batch.push({
      topic: `${this.options.topicPrefix}.transaction`,
      key: Buffer.from(toJson({ id })),
      value: Buffer.from(toJson(value)),
    });
  }

  private handle({ lsn, msg }: StreamedMessage): void {
    switch (msg.tag) {
      case 'begin': {
        this.tx = {
          xid: msg.xid,
          commitLsn: msg.commitLsn === null ? lsn : parseLsn(msg.commitLsn),
          tsMs: Number((msg.commitTime as bigint) / 1000n),
          total: 0,
          perTable: new Map(),
        };
        return; // the BEGIN record is written with the transaction's first captured event
      }
      case 'commit': {
        const tx = this.tx;
        // Heartbeats and transactions on other tables have no events, hence no BEGIN/END.
        if (tx !== undefined && this.opts.transactionTopic && tx.total > 0) this.txRecord('END', tx);
        const end = msg.commitEndLsn === null ? lsn : parseLsn(msg.commitEndLsn);
        this.batchCommit = { lsn: end, txId: tx?.xid ?? 0 };
        this.lastCommitLsn = msg.commitLsn === null ? lsn : parseLsn(msg.commitLsn);
        this.stats.transactions++;
        this.tx = undefined;
        return;
      }
      case 'insert': {
        const model = this.models.get(msg.relation.relationOid);
        if (model === undefined) return;
        this.push(model, 'c', msg.new, null, false, msg.new, lsn);
        return;
      }
      case 'update': {
        const model = this.models.get(msg.relation.relationOid);
        if (model === undefined) return;
        const oldTuple = (msg.key ?? msg.old) as TextTuple | null;
        if (oldTuple !== null && model.keyColumns.length > 0 && model.keyChanged(oldTuple, msg.new)) {
          // Primary-key change: as Debezium, a delete (+ tombstone) of the old key, then a create.
          const oldKey = model.keyJson(oldTuple) ?? 'null';
          const newKey = model.keyJson(msg.new) ?? 'null';
          const full = msg.old !== null;
          this.push(model, 'd', oldTuple, oldTuple, !full, null, lsn, { '__debezium.newkey': newKey });
          this.tombstone(model, oldTuple);
          this.push(model, 'c', msg.new, null, false, msg.new, lsn, { '__debezium.oldkey': oldKey });
          return;
        }
        this.push(model, 'u', msg.new, msg.old, false, msg.new, lsn);
        return;
      }
      case 'delete': {
        const model = this.models.get(msg.relation.relationOid);
        if (model === undefined) return;
        const oldTuple = (msg.old ?? msg.key) as TextTuple;
        this.push(model, 'd', oldTuple, oldTuple, msg.old === null, null, lsn);
        this.tombstone(model, oldTuple);
        return;
      }
      case 'truncate': {
        for (const rel of msg.relations) {
          const model = this.models.get(rel.relationOid);
          if (model !== undefined) this.push(model, 't', null, null, false, null, lsn);
        }
        return;
      }
      case 'keepalive': {
        // Outside a transaction, everything committed before the server's WAL end has been
        // handled (pgoutput sends a transaction whole, at its commit): once the batch so far
        // is acknowledged, the slot may move to walEnd. This lets it advance past WAL of
        // tables not captured, and lets a fast shutdown of Postgres see its walsender caught up.
        if (this.tx !== undefined) return;
        const saved = parseLsn((this.offset as SourceOffset).lsn);
        const pending = this.batchCommit?.lsn ?? 0n;
        if (lsn > saved && lsn > pending)
          this.batchCommit = { lsn, txId: this.batchCommit?.txId ?? this.offset?.txId ?? 0 };
        return;
      }
      default:
        return; // origin, type, message (heartbeats): nothing to emit
    }
  }
}
