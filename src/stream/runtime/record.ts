/**
 * The record shapes that flow between operators.
 *
 * Format: every record is a StreamRecord instance (one hidden class: key, value, timestamp),
 * so operator loops stay monomorphic. Batches are plain arrays of them.
 *
 * Invariants (ownership): a batch handed to Operator.process belongs to that operator; it may
 * mutate the records in place (chained map/keyBy do) and must not touch them after emitting
 * them downstream. Fan-out copies records for every consumer but the first, so no two
 * operators ever hold the same record object.
 *
 * Timestamps are event time in ms since the epoch, always finite and ≥ 0 once past the source.
 */

export class StreamRecord<K = unknown, V = unknown> {
  key: K;
  value: V;
  timestamp: number;
  constructor(key: K, value: V, timestamp: number) {
    this.key = key;
    this.value = value;
    this.timestamp = timestamp;
  }
}

export function copyRecord<K, V>(r: StreamRecord<K, V>): StreamRecord<K, V> {
  return new StreamRecord(r.key, r.value, r.timestamp);
}

/** Why a record left the pipeline for the dead-letter output. */
export type DeadLetterKind = 'deserialize' | 'user-function' | 'timestamp' | 'async' | 'sink';

/** A record that could not be processed, with the reason; processing continues without it. */
export interface DeadLetter {
  readonly kind: DeadLetterKind;
  /** The operator (or source) that rejected it, as named in the plan. */
  readonly operator: string;
  readonly reason: string;
  readonly key: unknown;
  /** The value as the operator received it (raw bytes for deserialize failures). */
  readonly value: unknown;
  readonly timestamp: number;
  readonly error?: unknown;
}

/** A record that arrived after its windows (plus allowed lateness) had closed. */
export interface LateRecord {
  readonly operator: string;
  readonly key: unknown;
  readonly value: unknown;
  readonly timestamp: number;
  /** The operator's watermark when the record arrived. */
  readonly watermark: number;
}

/** A window: [start, end) in event time. Global windows span [-Infinity, +Infinity). */
export interface Window {
  readonly start: number;
  readonly end: number;
}

/**
 * How a window result relates to earlier results of the same window:
 * early    — before the window closed (a trigger fired); a later result supersedes it;
 * final    — at close (watermark passed end);
 * update   — a late record within allowed lateness changed an already-final result;
 * retract  — the window no longer exists (a session merged into a larger one).
 */
export type WindowResultKind = 'early' | 'final' | 'update' | 'retract';

export interface Windowed<K, R> {
  readonly key: K;
  readonly window: Window;
  /** For `retract`, the last result emitted for the window. */
  readonly value: R;
  readonly kind: WindowResultKind;
}
