/**
 * The embedded transport's "connection": calls the broker's request handler for an API key
 * in-process with a request object, at the version the embedded clients speak (the highest
 * the handler supports, except AddPartitionsToTxn, whose v4+ is the broker-to-broker form:
 * clients use v3, as Kafka's do). Nothing is encoded: the request is completed with the
 * defaults a decoder would fill in (protocol/'s withDefaults) and the handler's response is
 * completed the same way, so callers read typed bodies with every field present. Record
 * fields in responses may be lists of chunks (the TCP server writes them with writev);
 * `records()` joins them.
 *
 * Also the one table that turns Kafka error codes into SluiceErrors (types.ts's codes).
 *
 * Concurrency: any number of calls may be in flight (the TCP server serializes per
 * connection; in-process callers that need order — one producer partition, one group member —
 * keep it themselves). After close() every call fails with CLOSED; calls in flight finish.
 * A handler that throws is a broker bug: INTERNAL, with the cause.
 */

import type { Broker, ConnectionContext, Handler } from '../../broker/index.js';
import { SluiceError, type ErrorCode as SluiceErrorCode } from '../../common/index.js';
import {
  APIS,
  type ApiKey,
  ErrorCode,
  kafkaError,
  type RequestInput,
  type ResponseBody,
  withDefaults,
} from '../../protocol/index.js';

/** Versions where the highest supported one is not the client form. */
const CLIENT_VERSIONS: Partial<Record<ApiKey, number>> = { 24: 3 };

let nextConnectionId = -1;

export class InProcessConnection {
  private closed = false;
  private readonly ctx: ConnectionContext;

  constructor(
    private readonly broker: Broker,
    clientId: string,
  ) {
    // Negative ids: never equal to a TCP connection's.
    this.ctx = {
      id: nextConnectionId--,
      remoteAddress: 'embedded',
      clientId,
      principal: null,
      sasl: null,
      closeAfterResponse: false,
    };
  }

  /** The version of an API this connection sends. */
  static versionOf(apiKey: ApiKey): number {
    return CLIENT_VERSIONS[apiKey] ?? APIS[apiKey].maxVersion;
  }

  async call<K extends ApiKey>(apiKey: K, body: RequestInput<K>): Promise<ResponseBody<K>> {
    if (this.closed) throw new SluiceError('CLOSED', 'embedded connection is closed');
    const api = APIS[apiKey];
    const handler = this.broker.handlers[apiKey] as Handler<K> | undefined;
    if (handler === undefined)
      throw new SluiceError('UNSUPPORTED', `the broker has no handler for ${api.name}`);
    const apiVersion = InProcessConnection.versionOf(apiKey);
    const request = {
      apiKey,
      apiVersion,
      correlationId: 0,
      clientId: this.ctx.clientId,
      body: withDefaults(api.request.fields, apiVersion, body as Record<string, unknown>),
      trailingBytes: 0,
    };
    let response: unknown;
    try {
      response = await handler(request as never, this.ctx);
    } catch (err) {
      throw new SluiceError('INTERNAL', `${api.name} handler failed: ${(err as Error)?.message}`, {
        cause: err,
      });
    }
    if (response === null) throw new SluiceError('INTERNAL', `${api.name} handler sent no response`);
    return withDefaults(
      api.response.fields,
      apiVersion,
      response as Record<string, unknown>,
    ) as ResponseBody<K>;
  }

  close(): void {
    this.closed = true;
  }
}

/** A response's records field as one Buffer (handlers may answer with a list of chunks). */
export function records(v: Buffer | readonly Buffer[] | null): Buffer {
  if (v === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(v)) return v;
  const list = v as readonly Buffer[];
  return list.length === 1 ? (list[0] as Buffer) : Buffer.concat(list);
}

/** Kafka errors the embedded clients retry (after a short back-off) rather than surface. */
export const RETRY_CODES: ReadonlySet<number> = new Set([
  ErrorCode.CONCURRENT_TRANSACTIONS,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.REQUEST_TIMED_OUT,
  ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.UNSTABLE_OFFSET_COMMIT,
]);

const BY_KAFKA_CODE: ReadonlyMap<number, SluiceErrorCode> = new Map<number, SluiceErrorCode>([
  [ErrorCode.PRODUCER_FENCED, 'PRODUCER_FENCED'],
  [ErrorCode.INVALID_PRODUCER_EPOCH, 'PRODUCER_FENCED'],
  [ErrorCode.FENCED_INSTANCE_ID, 'PRODUCER_FENCED'],
  [ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 'PERMISSION_DENIED'],
  // The group moved on (KIP-447): the caller drops its tasks and rejoins, as when fenced.
  [ErrorCode.ILLEGAL_GENERATION, 'PRODUCER_FENCED'],
  [ErrorCode.UNKNOWN_MEMBER_ID, 'PRODUCER_FENCED'],
  [ErrorCode.INVALID_TXN_STATE, 'INVALID_TXN_STATE'],
  [ErrorCode.INVALID_PRODUCER_ID_MAPPING, 'INVALID_TXN_STATE'],
  [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'NOT_FOUND'],
  [ErrorCode.UNKNOWN_TOPIC_ID, 'NOT_FOUND'],
  [ErrorCode.GROUP_ID_NOT_FOUND, 'NOT_FOUND'],
  [ErrorCode.TOPIC_ALREADY_EXISTS, 'ALREADY_EXISTS'],
  [ErrorCode.INVALID_TOPIC_EXCEPTION, 'INVALID_ARGUMENT'],
  [ErrorCode.INVALID_PARTITIONS, 'INVALID_CONFIG'],
  [ErrorCode.INVALID_REPLICATION_FACTOR, 'INVALID_CONFIG'],
  [ErrorCode.INVALID_CONFIG, 'INVALID_CONFIG'],
  [ErrorCode.POLICY_VIOLATION, 'INVALID_CONFIG'],
  [ErrorCode.OFFSET_OUT_OF_RANGE, 'OFFSET_OUT_OF_RANGE'],
  [ErrorCode.MESSAGE_TOO_LARGE, 'RECORD_TOO_LARGE'],
  [ErrorCode.RECORD_LIST_TOO_LARGE, 'RECORD_TOO_LARGE'],
  [ErrorCode.CORRUPT_MESSAGE, 'INVALID_RECORD'],
  [ErrorCode.INVALID_RECORD, 'INVALID_RECORD'],
  [ErrorCode.DUPLICATE_SEQUENCE_NUMBER, 'DUPLICATE_SEQUENCE'],
  [ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, 'OUT_OF_ORDER_SEQUENCE'],
  [ErrorCode.REBALANCE_IN_PROGRESS, 'REBALANCE_IN_PROGRESS'],
  [ErrorCode.REQUEST_TIMED_OUT, 'TIMEOUT'],
  [ErrorCode.UNSUPPORTED_VERSION, 'UNSUPPORTED'],
]);

/** The SluiceError for a Kafka error code answered to `what` (e.g. "Produce to t-0"). */
export function kafkaFailure(code: number, what: string, message?: string | null): SluiceError {
  const k = kafkaError(code);
  const mapped = BY_KAFKA_CODE.get(code);
  return new SluiceError(mapped ?? 'INTERNAL', `${what}: ${k.name}${message ? ` (${message})` : ''}`, {
    kafkaErrorCode: code,
    retriable: k.retriable,
  });
}

/** Resolves after ms (the back-off between retries of a retriable answer). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Calls `attempt` until it answers an error code outside RETRY_CODES (0 included), backing off
 * 10 ms, doubling to 200 ms, for at most `timeoutMs`; then TIMEOUT naming the last code.
 */
export async function withRetries<T extends { errorCode: number }>(
  what: string,
  timeoutMs: number,
  attempt: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let backoff = 10;
  for (;;) {
    const r = await attempt();
    if (!RETRY_CODES.has(r.errorCode)) return r;
    if (Date.now() + backoff > deadline) {
      throw new SluiceError(
        'TIMEOUT',
        `${what}: still ${kafkaError(r.errorCode).name} after ${timeoutMs} ms`,
        {
          kafkaErrorCode: r.errorCode,
        },
      );
    }
    await sleep(backoff);
    backoff = Math.min(200, backoff * 2);
  }
}
