/**
 * TransactionCoordinator: the I/O edge around the pure state machine (state-machine.ts).
 *
 * For each input it computes `step(...)`, then performs the effects in order:
 *   1. every `append` effect goes to the transaction state log in one durable append;
 *      only when that resolves does the coordinator adopt the new metadata (so what a client
 *      was told is always what a restart will load);
 *   2. `respond` becomes the call's result;
 *   3. `writeMarkers`: a COMMIT/ABORT marker to every partition, then the `markersWritten`
 *      input completes the transaction; until then the id answers CONCURRENT_TRANSACTIONS.
 *      Kafka answers EndTxn once PrepareX is durable and writes markers over the network;
 *      here the markers are local appends, so EndTxn waits for them (`endTxnWaitsForMarkers`,
 *      default true): the client's next transaction does not meet CONCURRENT_TRANSACTIONS and
 *      back off, and a committed transaction is readable when commit() returns. Markers of
 *      timeouts, fencing and recovery run in the background.
 *
 * Ports (I/O at the edge): `TxnStateLog` (the `__transaction_state` records), `MarkerWriter`
 * (appends a control batch to a partition; a partition that no longer exists counts as done),
 * a producer id allocator and a clock. `load()` replays the log (last record per key wins, a
 * tombstone deletes) and runs `recover`: PrepareCommit/PrepareAbort rewrite their markers,
 * Ongoing transactions are fenced and aborted. A marker write that fails for another reason is
 * retried every `markerRetryMs` until it succeeds or the coordinator is closed.
 *
 * Concurrency: one event loop; inputs are applied one at a time (a promise chain), marker
 * writes of different transactions proceed concurrently outside it.
 * Crash behaviour: state is the last durable append; an append that fails answers
 * COORDINATOR_NOT_AVAILABLE (15, retriable) and changes nothing in memory.
 */
import { createLogger } from '../../common/index.js';
import {
  type CoordinatorLimits,
  DEFAULT_LIMITS,
  step,
  type TopicPartition,
  TXN_STATE_NAMES,
  type TxnEffect,
  TxnError,
  type TxnInput,
  type TxnMetadata,
  TxnState,
} from './state-machine.js';
import { decodeTxnKey, decodeTxnValue, encodeTxnKey, encodeTxnValue } from './txn-log-codec.js';

export interface TxnLogRecord {
  key: Buffer;
  value: Buffer | null;
}

export interface TxnStateLog {
  /** Resolves once the records are durable under the log's policy. */
  append(records: readonly TxnLogRecord[]): Promise<void>;
  /** Every record from the log start, in log order. */
  readAll(): Iterable<TxnLogRecord>;
}

export interface MarkerWriter {
  writeMarker(
    tp: TopicPartition,
    producerId: number,
    producerEpoch: number,
    commit: boolean,
    coordinatorEpoch: number,
  ): Promise<void>;
}

export interface TxnCoordinatorOptions {
  log: TxnStateLog;
  markers: MarkerWriter;
  allocateProducerId(): number;
  now?: () => number;
  limits?: CoordinatorLimits;
  coordinatorEpoch?: number;
  markerRetryMs?: number;
  /** EndTxn answers after the markers are written and the transaction is complete (default true). */
  endTxnWaitsForMarkers?: boolean;
  /** Called after a transaction completes (offsets staged by TxnOffsetCommit become visible). */
  onComplete?: (m: { transactionalId: string; producerId: number; commit: boolean }) => void | Promise<void>;
}

export interface TxnResult {
  errorCode: number;
  producerId: number;
  producerEpoch: number;
}

const COORDINATOR_NOT_AVAILABLE = 15;
const log = createLogger('txn');

export class TransactionCoordinator {
  private readonly meta = new Map<string, TxnMetadata>();
  private chain: Promise<unknown> = Promise.resolve();
  private readonly inflight = new Set<Promise<void>>();
  private readonly now: () => number;
  private readonly limits: CoordinatorLimits;
  private readonly coordinatorEpoch: number;
  private readonly markerRetryMs: number;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  private constructor(private readonly opts: TxnCoordinatorOptions) {
    this.now = opts.now ?? Date.now;
    this.limits = opts.limits ?? DEFAULT_LIMITS;
    this.coordinatorEpoch = opts.coordinatorEpoch ?? 0;
    this.markerRetryMs = opts.markerRetryMs ?? 100;
  }

  /** Replays the state log and completes or aborts every unfinished transaction. */
  static async load(opts: TxnCoordinatorOptions): Promise<TransactionCoordinator> {
    const c = new TransactionCoordinator(opts);
    for (const r of opts.log.readAll()) {
      let id: string;
      try {
        id = decodeTxnKey(r.key);
      } catch {
        continue;
      }
      if (r.value === null) {
        c.meta.delete(id);
        continue;
      }
      try {
        c.meta.set(id, decodeTxnValue(id, r.value));
      } catch {}
    }
    await c.apply({ kind: 'recover', now: c.now() });
    return c;
  }

  /** Checks for timed-out transactions every `intervalMs` (unref'd timer). */
  start(intervalMs = 1000): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for marker writes in flight (they are retried on the next load). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.chain.catch(() => undefined);
    await Promise.allSettled([...this.inflight]);
  }

  /** Resolves when no input is queued and no marker write is in flight. */
  async idle(): Promise<void> {
    for (;;) {
      await this.chain.catch(() => undefined);
      if (this.inflight.size === 0) return;
      await Promise.allSettled([...this.inflight]);
    }
  }

  describe(transactionalId: string): TxnMetadata | undefined {
    const m = this.meta.get(transactionalId);
    return m === undefined ? undefined : { ...m, partitions: m.partitions.slice() };
  }

  list(): TxnMetadata[] {
    return [...this.meta.values()].map((m) => ({ ...m, partitions: m.partitions.slice() }));
  }

  initProducerId(transactionalId: string, timeoutMs: number, producerId = -1, producerEpoch = -1) {
    return this.request({
      kind: 'initProducerId',
      transactionalId,
      timeoutMs,
      producerId,
      producerEpoch,
      now: this.now(),
      freshProducerId: -1, // filled in under the chain, only when used
    });
  }

  addPartitions(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: TopicPartition[],
  ) {
    return this.request({
      kind: 'addPartitions',
      transactionalId,
      producerId,
      producerEpoch,
      partitions,
      now: this.now(),
    });
  }

  async endTxn(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean) {
    const launched: Promise<void>[] = [];
    const r = await this.request(
      { kind: 'endTxn', transactionalId, producerId, producerEpoch, commit, now: this.now() },
      launched,
    );
    if (this.opts.endTxnWaitsForMarkers !== false) await Promise.all(launched);
    return r;
  }

  /** TxnOffsetCommit's check: is this the live producer of an open-able transaction? */
  verify(transactionalId: string, producerId: number, producerEpoch: number) {
    return this.request({ kind: 'verify', transactionalId, producerId, producerEpoch, now: this.now() });
  }

  /** Aborts transactions older than their timeout. */
  async tick(): Promise<void> {
    if (this.closed) return;
    await this.apply({ kind: 'tick', now: this.now() });
  }

  private async request(input: TxnInput, launched?: Promise<void>[]): Promise<TxnResult> {
    const effects = await this.apply(input, launched);
    for (const e of effects) if (e.kind === 'respond') return e;
    return { errorCode: COORDINATOR_NOT_AVAILABLE, producerId: -1, producerEpoch: -1 };
  }

  /** Runs one input through the machine under the chain; returns the effects performed. */
  private apply(input: TxnInput, launched?: Promise<void>[]): Promise<TxnEffect[]> {
    const run = async (): Promise<TxnEffect[]> => {
      let i = input;
      if (i.kind === 'initProducerId') {
        const m = this.meta.get(i.transactionalId);
        // Only allocate when the machine may need a fresh id (new id, or an epoch rollover).
        const mayNeed = m === undefined || m.state === 6 || m.producerEpoch >= 32764;
        i = { ...i, freshProducerId: mayNeed ? this.opts.allocateProducerId() : -1 };
      }
      const { next, effects } = step(this.meta, i, this.limits);
      const appends = effects.filter((e) => e.kind === 'append');
      if (appends.length > 0) {
        try {
          await this.opts.log.append(
            appends.map((a) => ({
              key: encodeTxnKey(a.transactionalId),
              value: a.metadata === null ? null : encodeTxnValue(a.metadata),
            })),
          );
        } catch {
          return [
            { kind: 'respond', errorCode: COORDINATOR_NOT_AVAILABLE, producerId: -1, producerEpoch: -1 },
          ];
        }
      }
      for (const [id, m] of next) {
        const before = this.meta.get(id);
        this.meta.set(id, m);
        logTransition(i.kind, before, m);
      }
      for (const e of effects) {
        if (e.kind !== 'writeMarkers') continue;
        const p = this.launchMarkers(e);
        if (launched !== undefined) launched.push(p);
      }
      return effects;
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private launchMarkers(e: Extract<TxnEffect, { kind: 'writeMarkers' }>): Promise<void> {
    const p = this.writeMarkers(e).finally(() => this.inflight.delete(p));
    this.inflight.add(p);
    return p;
  }

  private async writeMarkers(e: Extract<TxnEffect, { kind: 'writeMarkers' }>): Promise<void> {
    let todo = e.partitions.slice();
    while (todo.length > 0) {
      if (this.closed) return;
      const results = await Promise.allSettled(
        todo.map((tp) =>
          this.opts.markers.writeMarker(tp, e.producerId, e.producerEpoch, e.commit, this.coordinatorEpoch),
        ),
      );
      todo = todo.filter((_, k) => results[k]?.status === 'rejected');
      if (todo.length > 0) await new Promise((r) => setTimeout(r, this.markerRetryMs).unref());
    }
    // Complete the transaction; a failed state-log append is retried like a marker.
    let done: TxnEffect[];
    for (;;) {
      if (this.closed) return;
      done = await this.apply({
        kind: 'markersWritten',
        transactionalId: e.transactionalId,
        producerEpoch: e.producerEpoch,
        now: this.now(),
      });
      if (!done.some((x) => x.kind === 'respond' && x.errorCode === COORDINATOR_NOT_AVAILABLE)) break;
      await new Promise((r) => setTimeout(r, this.markerRetryMs).unref());
    }
    if (done.some((x) => x.kind === 'append') && this.opts.onComplete !== undefined)
      await this.opts.onComplete({
        transactionalId: e.transactionalId,
        producerId: e.producerId,
        commit: e.commit,
      });
  }
}

/**
 * Transactions ended by the broker rather than by their producer (fenced by a new
 * InitProducerId, timed out, recovered at start) at info, as Kafka logs them; every other
 * state change at debug.
 */
function logTransition(cause: TxnInput['kind'], before: TxnMetadata | undefined, m: TxnMetadata): void {
  if (before?.state === m.state && before.producerEpoch === m.producerEpoch) return;
  const fields = {
    transactionalId: m.transactionalId,
    producerId: m.producerId,
    epoch: m.producerEpoch,
    from: before === undefined ? null : TXN_STATE_NAMES[before.state],
    to: TXN_STATE_NAMES[m.state],
    partitions: m.partitions.length,
    cause,
  };
  const brokerEnded =
    (m.state === TxnState.PrepareAbort || m.state === TxnState.PrepareEpochFence) && cause !== 'endTxn';
  if (brokerEnded) log.info(fields, 'transaction aborted by the coordinator');
  else log.debug(fields, 'transaction state');
}

export { TxnError };
