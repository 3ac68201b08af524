/**
 * The transaction coordinator's state machine (Kafka's TransactionCoordinator +
 * TransactionMetadata), as a pure function: `step(metadata | undefined, input)` returns the
 * next metadata and the effects the edge must perform, in order. No I/O, no clock, no
 * randomness: time and fresh producer ids arrive in the input.
 *
 * States and ids (the ids are Kafka's TransactionState values, stored in `__transaction_state`):
 *   Empty 0, Ongoing 1, PrepareCommit 2, PrepareAbort 3, CompleteCommit 4, CompleteAbort 5,
 *   Dead 6, PrepareEpochFence 7.
 *
 * Transitions (a transactional id's life):
 *   InitProducerId:  none|Dead -> Empty (fresh producer id, epoch 0)
 *                    Empty|Complete* -> Empty with epoch + 1 (fences the older producer; at
 *                      epoch 32766 a fresh producer id with epoch 0, KIP-360's rollover)
 *                    Ongoing -> PrepareAbort with epoch + 1 (recovery of the unfinished
 *                      transaction: fence, abort it, answer CONCURRENT_TRANSACTIONS so the
 *                      client retries once the abort is complete)
 *                    Prepare* -> CONCURRENT_TRANSACTIONS
 *                    KIP-360: a request carrying the producer id/epoch it had is accepted only
 *                      for the current (or previous, a retry) epoch, else PRODUCER_FENCED.
 *   AddPartitions / AddOffsets (offsets as their `__consumer_offsets` partition):
 *                    Empty|Complete*|Ongoing -> Ongoing (partitions added; start time set when
 *                      a new transaction begins). Already included -> no write.
 *   EndTxn:          Ongoing -> PrepareCommit|PrepareAbort; then the markers; then
 *                      `MarkersWritten` -> CompleteCommit|CompleteAbort. Retries of a finished
 *                      EndTxn answer OK; a contrary one INVALID_TXN_STATE.
 *   Tick(now):       Ongoing older than its timeout -> PrepareAbort with epoch + 1 (the
 *                      producer is fenced, its later requests fail with PRODUCER_FENCED).
 *   MarkersWritten:  Prepare* -> Complete*, partitions cleared.
 *   Recover:         after loading the log, Prepare* re-emit their markers; Ongoing is aborted.
 *
 * Invariants: epoch never decreases for a producer id; a PrepareX state always emits
 * `writeMarkers` for exactly its partitions; a Complete state has no partitions; every state
 * change emits exactly one `append` (the record for `__transaction_state`) before any
 * `respond` or `writeMarkers`, so the edge makes the new state durable first.
 *
 * Concurrency: none here. The edge applies one input per transactional id at a time and
 * adopts `next` only after its `append` effect is durable.
 * Crash behaviour: the state is what the last durable append says; `recover` completes it.
 */

export const TxnState = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
} as const;
export type TxnState = (typeof TxnState)[keyof typeof TxnState];

export const TXN_STATE_NAMES: Record<TxnState, string> = {
  0: 'Empty',
  1: 'Ongoing',
  2: 'PrepareCommit',
  3: 'PrepareAbort',
  4: 'CompleteCommit',
  5: 'CompleteAbort',
  6: 'Dead',
  7: 'PrepareEpochFence',
};

/** Kafka wire error codes the coordinator answers with. */
export const TxnError = {
  NONE: 0,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
  INVALID_TRANSACTION_TIMEOUT: 50,
  CONCURRENT_TRANSACTIONS: 51,
  PRODUCER_FENCED: 90,
} as const;

/** int16 max; an epoch reaching MAX_EPOCH - 1 rolls over to a fresh producer id. */
export const MAX_EPOCH = 32767;

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TxnMetadata {
  transactionalId: string;
  producerId: number;
  /** Producer id before the last rollover (KIP-360), -1 if none. */
  previousProducerId: number;
  /** Epoch before the last bump asked for by the live producer (KIP-360), else -1: a retried
   * InitProducerId may present it and gets the current epoch without another bump. */
  lastProducerEpoch: number;
  producerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  /** Sorted by topic then partition, no duplicates. */
  partitions: TopicPartition[];
  /** When the current transaction began (first AddPartitions), -1 outside one. */
  txnStartTimestamp: number;
  lastUpdateTimestamp: number;
}

export type TxnInput =
  | {
      kind: 'initProducerId';
      transactionalId: string;
      timeoutMs: number;
      /** KIP-360: the id/epoch the producer had, -1/-1 for a fresh producer. */
      producerId: number;
      producerEpoch: number;
      now: number;
      /** A fresh producer id the edge reserved, used only if the machine needs one. */
      freshProducerId: number;
    }
  | {
      kind: 'addPartitions';
      transactionalId: string;
      producerId: number;
      producerEpoch: number;
      partitions: TopicPartition[];
      now: number;
    }
  | {
      kind: 'endTxn';
      transactionalId: string;
      producerId: number;
      producerEpoch: number;
      commit: boolean;
      now: number;
    }
  /** A TxnOffsetCommit / produce check: is (producerId, epoch) the live transaction? */
  | { kind: 'verify'; transactionalId: string; producerId: number; producerEpoch: number; now: number }
  | { kind: 'tick'; now: number }
  | { kind: 'markersWritten'; transactionalId: string; producerEpoch: number; now: number }
  | { kind: 'recover'; now: number };

export type TxnEffect =
  /** Make this metadata durable in `__transaction_state` (null metadata: a tombstone). */
  | { kind: 'append'; transactionalId: string; metadata: TxnMetadata | null }
  /** Append a COMMIT/ABORT marker with this producer id/epoch to every partition. */
  | {
      kind: 'writeMarkers';
      transactionalId: string;
      producerId: number;
      producerEpoch: number;
      commit: boolean;
      partitions: TopicPartition[];
    }
  /** Answer the request that caused this step. */
  | { kind: 'respond'; errorCode: number; producerId: number; producerEpoch: number };

export interface StepResult {
  /** Metadata per transactional id that changed (the edge adopts these after the append). */
  next: Map<string, TxnMetadata>;
  effects: TxnEffect[];
}

export interface CoordinatorLimits {
  /** transaction.max.timeout.ms (Kafka default 15 minutes). */
  maxTimeoutMs: number;
}

export const DEFAULT_LIMITS: CoordinatorLimits = { maxTimeoutMs: 900_000 };

const respond = (errorCode: number, producerId = -1, producerEpoch = -1): TxnEffect => ({
  kind: 'respond',
  errorCode,
  producerId,
  producerEpoch,
});

function comparePartitions(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}

/** Union of two partition lists, sorted and without duplicates. */
export function unionPartitions(
  a: readonly TopicPartition[],
  b: readonly TopicPartition[],
): TopicPartition[] {
  const all = [...a, ...b].map((p) => ({ topic: p.topic, partition: p.partition })).sort(comparePartitions);
  const out: TopicPartition[] = [];
  for (const p of all) {
    const last = out[out.length - 1];
    if (last === undefined || comparePartitions(last, p) !== 0) out.push(p);
  }
  return out;
}

function isComplete(s: TxnState): boolean {
  return s === TxnState.CompleteCommit || s === TxnState.CompleteAbort;
}

function isPrepare(s: TxnState): boolean {
  return s === TxnState.PrepareCommit || s === TxnState.PrepareAbort || s === TxnState.PrepareEpochFence;
}

function single(m: TxnMetadata, effects: TxnEffect[]): StepResult {
  return { next: new Map([[m.transactionalId, m]]), effects };
}

const none = (effects: TxnEffect[]): StepResult => ({ next: new Map(), effects });

/**
 * Fence the producer and abort its open transaction (epoch + 1, PrepareAbort, markers).
 * `lastProducerEpoch` is what a retried InitProducerId may present: -1 unless the live
 * producer itself asked (KIP-360), so a fenced producer can never pass for a retry.
 */
function fenceAndAbort(
  m: TxnMetadata,
  now: number,
  lastProducerEpoch = -1,
): { meta: TxnMetadata; effects: TxnEffect[] } {
  const meta: TxnMetadata = {
    ...m,
    lastProducerEpoch,
    producerEpoch: Math.min(m.producerEpoch + 1, MAX_EPOCH - 1),
    state: TxnState.PrepareAbort,
    lastUpdateTimestamp: now,
  };
  return {
    meta,
    effects: [{ kind: 'append', transactionalId: m.transactionalId, metadata: meta }, markersOf(meta, false)],
  };
}

function markersOf(m: TxnMetadata, commit: boolean): TxnEffect {
  return {
    kind: 'writeMarkers',
    transactionalId: m.transactionalId,
    producerId: m.producerId,
    producerEpoch: m.producerEpoch,
    commit,
    partitions: m.partitions.slice(),
  };
}

/** Producer id/epoch check shared by AddPartitions, EndTxn and verify. */
function checkProducer(m: TxnMetadata | undefined, producerId: number, producerEpoch: number): number {
  if (m === undefined || m.state === TxnState.Dead) return TxnError.INVALID_PRODUCER_ID_MAPPING;
  if (m.producerId !== producerId) return TxnError.INVALID_PRODUCER_ID_MAPPING;
  if (m.producerEpoch !== producerEpoch) return TxnError.PRODUCER_FENCED;
  return TxnError.NONE;
}

function initProducerId(
  m: TxnMetadata | undefined,
  input: Extract<TxnInput, { kind: 'initProducerId' }>,
  limits: CoordinatorLimits,
): StepResult {
  const { transactionalId, timeoutMs, now } = input;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > limits.maxTimeoutMs)
    return none([respond(TxnError.INVALID_TRANSACTION_TIMEOUT)]);
  if (m === undefined || m.state === TxnState.Dead) {
    const meta: TxnMetadata = {
      transactionalId,
      producerId: input.freshProducerId,
      previousProducerId: -1,
      lastProducerEpoch: -1,
      producerEpoch: 0,
      timeoutMs,
      state: TxnState.Empty,
      partitions: [],
      txnStartTimestamp: -1,
      lastUpdateTimestamp: now,
    };
    return single(meta, [
      { kind: 'append', transactionalId, metadata: meta },
      respond(TxnError.NONE, meta.producerId, 0),
    ]);
  }
  if (isPrepare(m.state)) return none([respond(TxnError.CONCURRENT_TRANSACTIONS)]);
  // KIP-360: a producer that presents its id/epoch must be the current one (or retrying the
  // bump that produced the current epoch).
  let retry = false;
  if (input.producerId !== -1) {
    const current = input.producerId === m.producerId && input.producerEpoch === m.producerEpoch;
    const retried =
      (m.state === TxnState.Empty || isComplete(m.state)) &&
      m.lastProducerEpoch >= 0 &&
      input.producerEpoch === m.lastProducerEpoch &&
      (input.producerId === m.producerId || input.producerId === m.previousProducerId);
    if (!current && !retried) return none([respond(TxnError.PRODUCER_FENCED)]);
    retry = retried && !current;
  }
  if (retry) return none([respond(TxnError.NONE, m.producerId, m.producerEpoch)]);
  if (m.state === TxnState.Ongoing) {
    const { meta, effects } = fenceAndAbort(
      { ...m, timeoutMs },
      now,
      input.producerId !== -1 ? m.producerEpoch : -1,
    );
    return single(meta, [...effects, respond(TxnError.CONCURRENT_TRANSACTIONS)]);
  }
  // Empty or Complete*: bump the epoch, or roll over to a fresh producer id.
  const rollover = m.producerEpoch + 1 >= MAX_EPOCH - 1;
  const meta: TxnMetadata = {
    ...m,
    producerId: rollover ? input.freshProducerId : m.producerId,
    previousProducerId: rollover ? m.producerId : m.previousProducerId,
    // Kafka: only a producer presenting its id/epoch (KIP-360) may later retry this bump.
    lastProducerEpoch: input.producerId !== -1 ? m.producerEpoch : -1,
    producerEpoch: rollover ? 0 : m.producerEpoch + 1,
    timeoutMs,
    state: TxnState.Empty,
    partitions: [],
    txnStartTimestamp: -1,
    lastUpdateTimestamp: now,
  };
  return single(meta, [
    { kind: 'append', transactionalId, metadata: meta },
    respond(TxnError.NONE, meta.producerId, meta.producerEpoch),
  ]);
}

function addPartitions(
  m: TxnMetadata | undefined,
  input: Extract<TxnInput, { kind: 'addPartitions' }>,
): StepResult {
  const err = checkProducer(m, input.producerId, input.producerEpoch);
  if (err !== TxnError.NONE || m === undefined) return none([respond(err)]);
  if (isPrepare(m.state)) return none([respond(TxnError.CONCURRENT_TRANSACTIONS)]);
  const merged = unionPartitions(m.partitions, input.partitions);
  if (m.state === TxnState.Ongoing && merged.length === m.partitions.length)
    return none([respond(TxnError.NONE, m.producerId, m.producerEpoch)]);
  const meta: TxnMetadata = {
    ...m,
    state: TxnState.Ongoing,
    partitions: merged,
    txnStartTimestamp: m.state === TxnState.Ongoing ? m.txnStartTimestamp : input.now,
    lastUpdateTimestamp: input.now,
  };
  return single(meta, [
    { kind: 'append', transactionalId: m.transactionalId, metadata: meta },
    respond(TxnError.NONE, m.producerId, m.producerEpoch),
  ]);
}

function endTxn(m: TxnMetadata | undefined, input: Extract<TxnInput, { kind: 'endTxn' }>): StepResult {
  const err = checkProducer(m, input.producerId, input.producerEpoch);
  if (err !== TxnError.NONE || m === undefined) return none([respond(err)]);
  const ok = respond(TxnError.NONE, m.producerId, m.producerEpoch);
  switch (m.state) {
    case TxnState.Ongoing: {
      const meta: TxnMetadata = {
        ...m,
        state: input.commit ? TxnState.PrepareCommit : TxnState.PrepareAbort,
        lastUpdateTimestamp: input.now,
      };
      return single(meta, [
        { kind: 'append', transactionalId: m.transactionalId, metadata: meta },
        ok,
        markersOf(meta, input.commit),
      ]);
    }
    case TxnState.PrepareCommit:
      return none([respond(input.commit ? TxnError.CONCURRENT_TRANSACTIONS : TxnError.INVALID_TXN_STATE)]);
    case TxnState.PrepareAbort:
      return none([respond(input.commit ? TxnError.INVALID_TXN_STATE : TxnError.CONCURRENT_TRANSACTIONS)]);
    case TxnState.CompleteCommit:
      return none([input.commit ? ok : respond(TxnError.INVALID_TXN_STATE)]);
    case TxnState.CompleteAbort:
      return none([input.commit ? respond(TxnError.INVALID_TXN_STATE) : ok]);
    case TxnState.PrepareEpochFence:
      return none([respond(TxnError.CONCURRENT_TRANSACTIONS)]);
    default:
      return none([respond(TxnError.INVALID_TXN_STATE)]);
  }
}

function markersWritten(
  m: TxnMetadata | undefined,
  input: Extract<TxnInput, { kind: 'markersWritten' }>,
): StepResult {
  if (m === undefined || !isPrepare(m.state) || m.producerEpoch !== input.producerEpoch) return none([]);
  const meta: TxnMetadata = {
    ...m,
    state: m.state === TxnState.PrepareCommit ? TxnState.CompleteCommit : TxnState.CompleteAbort,
    partitions: [],
    txnStartTimestamp: -1,
    lastUpdateTimestamp: input.now,
  };
  return single(meta, [{ kind: 'append', transactionalId: m.transactionalId, metadata: meta }]);
}

/** Applies one input to the coordinator's view of all transactional ids. */
export function step(
  all: ReadonlyMap<string, TxnMetadata>,
  input: TxnInput,
  limits: CoordinatorLimits = DEFAULT_LIMITS,
): StepResult {
  switch (input.kind) {
    case 'initProducerId':
      return initProducerId(all.get(input.transactionalId), input, limits);
    case 'addPartitions':
      return addPartitions(all.get(input.transactionalId), input);
    case 'endTxn':
      return endTxn(all.get(input.transactionalId), input);
    case 'verify': {
      const m = all.get(input.transactionalId);
      const err = checkProducer(m, input.producerId, input.producerEpoch);
      if (err !== TxnError.NONE || m === undefined) return none([respond(err)]);
      if (isPrepare(m.state)) return none([respond(TxnError.CONCURRENT_TRANSACTIONS)]);
      return none([respond(TxnError.NONE, m.producerId, m.producerEpoch)]);
    }
    case 'markersWritten':
      return markersWritten(all.get(input.transactionalId), input);
    case 'tick': {
      const next = new Map<string, TxnMetadata>();
      const effects: TxnEffect[] = [];
      for (const m of all.values()) {
        if (m.state !== TxnState.Ongoing || input.now - m.txnStartTimestamp <= m.timeoutMs) continue;
        const r = fenceAndAbort(m, input.now);
        next.set(m.transactionalId, r.meta);
        effects.push(...r.effects);
      }
      return { next, effects };
    }
    case 'recover': {
      const next = new Map<string, TxnMetadata>();
      const effects: TxnEffect[] = [];
      for (const m of all.values()) {
        if (m.state === TxnState.PrepareCommit) effects.push(markersOf(m, true));
        else if (m.state === TxnState.PrepareAbort || m.state === TxnState.PrepareEpochFence) {
          const meta = { ...m, state: TxnState.PrepareAbort };
          if (m.state === TxnState.PrepareEpochFence) {
            next.set(m.transactionalId, meta);
            effects.push({ kind: 'append', transactionalId: m.transactionalId, metadata: meta });
          }
          effects.push(markersOf(meta, false));
        } else if (m.state === TxnState.Ongoing) {
          const r = fenceAndAbort(m, input.now);
          next.set(m.transactionalId, r.meta);
          effects.push(...r.effects);
        }
      }
      return { next, effects };
    }
  }
}
