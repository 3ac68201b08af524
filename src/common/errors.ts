/**
 * SluiceError: the one error type every Sluice module throws.
 *
 * Errors are a closed set: `code` is one of ERROR_CODES, so callers can switch on it
 * and the CLI can map it to an exit status. `retriable` says whether the same call may
 * succeed later unchanged (a timeout, a rebalance, a not-yet-available leader), never
 * whether the caller should give up. Kafka's wire error codes are a separate table in
 * `protocol/`; a SluiceError may carry one in `kafkaErrorCode`.
 */

export const ERROR_CODES = [
  // input and configuration
  'INVALID_ARGUMENT',
  'INVALID_CONFIG',
  'USAGE',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  // data integrity
  'CORRUPT_RECORD',
  'CORRUPT_INDEX',
  'INVALID_RECORD',
  'RECORD_TOO_LARGE',
  'OFFSET_OUT_OF_RANGE',
  'SERIALIZATION',
  'DESERIALIZATION',
  // a source's retained position is gone (e.g. a CDC replication slot was dropped)
  'SOURCE_LOST',
  // producer / transaction semantics
  'DUPLICATE_SEQUENCE',
  'OUT_OF_ORDER_SEQUENCE',
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'INVALID_TXN_STATE',
  'SCHEMA_INCOMPATIBLE',
  // runtime conditions
  'TIMEOUT',
  'NOT_READY',
  'REBALANCE_IN_PROGRESS',
  'CLOSED',
  'IO',
  'NETWORK',
  'PROTOCOL',
  'UNSUPPORTED',
  'USER_FUNCTION',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const DEFAULT_RETRIABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'TIMEOUT',
  'NOT_READY',
  'REBALANCE_IN_PROGRESS',
  'NETWORK',
]);

export interface SluiceErrorOptions {
  retriable?: boolean;
  cause?: unknown;
  /** Kafka protocol error code, when the error maps onto one. */
  kafkaErrorCode?: number;
  /** Structured context for logs (topic, partition, offset, path…). */
  details?: Record<string, unknown>;
}

export class SluiceError extends Error {
  override readonly name = 'SluiceError';
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly kafkaErrorCode: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: SluiceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? DEFAULT_RETRIABLE.has(code);
    this.kafkaErrorCode = options.kafkaErrorCode;
    this.details = options.details;
  }

  /** Serializable form for logs and HTTP error bodies. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retriable: this.retriable,
      ...(this.kafkaErrorCode === undefined ? {} : { kafkaErrorCode: this.kafkaErrorCode }),
      ...(this.details === undefined ? {} : { details: this.details }),
      ...(this.cause === undefined ? {} : { cause: describeCause(this.cause) }),
    };
  }
}

function describeCause(cause: unknown): unknown {
  if (cause instanceof SluiceError) return cause.toJSON();
  if (cause instanceof Error) return { name: cause.name, message: cause.message };
  return String(cause);
}

export function isSluiceError(err: unknown, code?: ErrorCode): err is SluiceError {
  return err instanceof SluiceError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a SluiceError, keeping the original as `cause`. */
export function toSluiceError(err: unknown, fallback: ErrorCode = 'INTERNAL'): SluiceError {
  if (err instanceof SluiceError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SluiceError(fallback, message, { cause: err });
}
