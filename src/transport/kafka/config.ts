/**
 * librdkafka configuration and error translation shared by the Kafka transport's clients (and
 * by `sluice`'s client commands, which import `rdkafkaConnectionConfig` through transport's
 * index).
 *
 * Connection: bootstrap servers, client id, SASL PLAIN / SCRAM-SHA-256/512 (over plaintext;
 * TLS and other librdkafka properties go through `config`, applied last so they win).
 * librdkafka retries an unreachable broker forever; every call the transport makes is bounded
 * by `requestTimeoutMs` instead, and librdkafka's own log lines are off (log_level 0): failures
 * surface as SluiceErrors from the call that hit them.
 *
 * Latency defaults (the stream runtime's end-to-end latency is the sum of producer linger,
 * broker fetch wait and consumer poll wait), chosen here once for every client:
 *   - socket.nagle.disable = true: small produce and fetch requests leave at once instead of
 *     waiting for the previous segment's ACK (Nagle + delayed ACK costs up to 40 ms per hop).
 *   - producer linger.ms = 5 (ProducerOptions.lingerMs): librdkafka's default, a batch window
 *     short against the 100 ms commit interval; 0 for callers that send one record at a time.
 *   - consumer fetch.wait.max.ms = 100 (librdkafka default 500): the broker parks an empty fetch
 *     this long. A record produced meanwhile is still answered at once (the broker completes
 *     parked fetches on append), so this bounds only how stale a paused/resumed or newly
 *     assigned partition's first fetch can be, and close() latency.
 *   - fetch.error.backoff.ms = 50 (default 500): after a fetch error (leader moving, topic just
 *     created) retry soon.
 *   - fetch.queue.backoff.ms = 0 (default 1000): when the pre-fetch queue is full, fetch again as
 *     soon as the application drains it rather than a second later.
 *   bench/transport-kafka.ts measures these against librdkafka's defaults in the same run; on
 *   the shared test machine p50 is the same (7-8 ms) and p99 is within the load noise: they
 *   bound worst cases (a fetch parked across a pause, seek, reassignment or close) rather than
 *   the steady flow, which the broker answers as records arrive.
 *
 * Errors: `kafkaError(err, what)` maps a LibrdKafkaError (or anything thrown) to a SluiceError;
 * the librdkafka code is kept in `details.rdkafkaCode`, Kafka's wire code (positive librdkafka
 * codes are Kafka's) in `kafkaErrorCode`.
 */
import ck from '@confluentinc/kafka-javascript';
import { type ErrorCode, SluiceError } from '../../common/index.js';

const { RdKafka } = ck;
export const RD = RdKafka.CODES.ERRORS;

export const SASL_MECHANISM_CHOICES = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanismChoice = (typeof SASL_MECHANISM_CHOICES)[number];

export interface KafkaSasl {
  readonly mechanism: SaslMechanismChoice;
  readonly username: string;
  readonly password: string;
}

export interface KafkaConnectionOptions {
  /** host:port[,host:port…] */
  readonly bootstrap: string;
  readonly sasl?: KafkaSasl;
  /** Default 'sluice'. Clients add their own suffix unless given one in their options. */
  readonly clientId?: string;
  /** Bound on connecting and on each admin / commit / transaction call, ms. Default 30 000. */
  readonly requestTimeoutMs?: number;
  /** Extra librdkafka properties for every client, applied last. */
  readonly config?: Readonly<Record<string, string | number | boolean>>;
}

export type RdConfig = Record<string, string | number | boolean>;

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** librdkafka properties for reaching the cluster: bootstrap, client id, SASL, quiet logs. */
export function rdkafkaConnectionConfig(opts: {
  bootstrap: string;
  clientId: string;
  sasl?: KafkaSasl | undefined;
  timeoutMs: number;
}): RdConfig {
  const conf: RdConfig = {
    'bootstrap.servers': opts.bootstrap,
    'client.id': opts.clientId,
    // librdkafka logs connection retries at warning level on stderr; calls report errors themselves.
    log_level: 0,
    'socket.connection.setup.timeout.ms': Math.max(1000, opts.timeoutMs),
  };
  if (opts.sasl !== undefined) {
    conf['security.protocol'] = 'sasl_plaintext';
    conf['sasl.mechanisms'] = opts.sasl.mechanism.toUpperCase();
    conf['sasl.username'] = opts.sasl.username;
    conf['sasl.password'] = opts.sasl.password;
  }
  return conf;
}

/** The transport's base config for one client: connection + latency defaults + user overrides. */
export function clientConfig(conn: KafkaConnectionOptions, clientId: string, own: RdConfig): RdConfig {
  return {
    ...rdkafkaConnectionConfig({
      bootstrap: conn.bootstrap,
      clientId,
      sasl: conn.sasl,
      timeoutMs: conn.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    }),
    'socket.nagle.disable': true,
    ...own,
    ...(conn.config ?? {}),
  };
}

type LibError = Error & {
  code?: number;
  isFatal?: boolean;
  isTxnRequiresAbort?: boolean;
  isRetriable?: boolean;
};

/**
 * Fenced: another producer took the transactional id, or the group moved on (KIP-447:
 * ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID under sendOffsets or a commit), or another instance
 * took the group.instance.id. The caller drops its tasks and rejoins (as the embedded
 * transport maps the same Kafka codes).
 */
const FENCED = new Set<number>([
  RD.ERR__FENCED,
  RD.ERR_PRODUCER_FENCED,
  RD.ERR_INVALID_PRODUCER_EPOCH,
  RD.ERR_ILLEGAL_GENERATION,
  RD.ERR_UNKNOWN_MEMBER_ID,
  RD.ERR_FENCED_INSTANCE_ID,
]);
const TIMEOUTS = new Set<number>([
  RD.ERR__TIMED_OUT,
  RD.ERR__TIMED_OUT_QUEUE,
  RD.ERR_REQUEST_TIMED_OUT,
  RD.ERR__MSG_TIMED_OUT,
]);
const NETWORK = new Set<number>([
  RD.ERR__TRANSPORT,
  RD.ERR__ALL_BROKERS_DOWN,
  RD.ERR__AUTHENTICATION,
  RD.ERR_SASL_AUTHENTICATION_FAILED,
  RD.ERR_COORDINATOR_NOT_AVAILABLE,
  RD.ERR_NOT_COORDINATOR,
  RD.ERR_COORDINATOR_LOAD_IN_PROGRESS,
]);

/** The librdkafka error code of anything thrown, if it has one. */
export function rdCode(err: unknown): number | undefined {
  const code = (err as LibError | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Maps a librdkafka failure of `what` to a SluiceError (see the file header). */
export function kafkaError(
  err: unknown,
  what: string,
  context: 'producer' | 'consumer' | 'admin',
): SluiceError {
  if (err instanceof SluiceError) return err;
  const e = err as LibError | undefined;
  const message = e?.message ?? String(err);
  const code = rdCode(err);
  let kind: ErrorCode = 'IO';
  if (code !== undefined) {
    if (FENCED.has(code) || (code === RD.ERR__FATAL && /fenced/i.test(message))) kind = 'PRODUCER_FENCED';
    else if (
      code === RD.ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED ||
      code === RD.ERR_GROUP_AUTHORIZATION_FAILED ||
      code === RD.ERR_TOPIC_AUTHORIZATION_FAILED
    )
      kind = 'PERMISSION_DENIED';
    else if (code === RD.ERR_INVALID_SESSION_TIMEOUT || code === RD.ERR_POLICY_VIOLATION)
      kind = 'INVALID_CONFIG';
    else if ((code === RD.ERR__STATE && context === 'producer') || code === RD.ERR_INVALID_TXN_STATE)
      kind = 'INVALID_TXN_STATE';
    else if (TIMEOUTS.has(code)) kind = 'TIMEOUT';
    else if (NETWORK.has(code)) kind = 'NETWORK';
    else if (code === RD.ERR_REBALANCE_IN_PROGRESS) kind = 'REBALANCE_IN_PROGRESS';
    else if (
      code === RD.ERR_UNKNOWN_TOPIC_OR_PART ||
      code === RD.ERR__UNKNOWN_TOPIC ||
      code === RD.ERR__UNKNOWN_PARTITION
    )
      kind = 'NOT_FOUND';
    else if (code === RD.ERR_TOPIC_ALREADY_EXISTS) kind = 'ALREADY_EXISTS';
    else if (code === RD.ERR_MSG_SIZE_TOO_LARGE) kind = 'RECORD_TOO_LARGE';
    else if (code === RD.ERR_OFFSET_OUT_OF_RANGE) kind = 'OFFSET_OUT_OF_RANGE';
    else if (code === RD.ERR__DESTROY) kind = 'CLOSED';
    else if (code === RD.ERR__INVALID_ARG) kind = 'INVALID_ARGUMENT';
    else if (e?.isTxnRequiresAbort === true) kind = 'INVALID_TXN_STATE';
  } else if (/timed out/i.test(message)) kind = 'TIMEOUT';
  else if (/disconnected|not connected/i.test(message)) kind = 'CLOSED';
  const hint =
    code === RD.ERR_INVALID_SESSION_TIMEOUT
      ? " (the group coordinator refuses this session timeout: it must lie within the cluster's group.min.session.timeout.ms and group.max.session.timeout.ms, 6 s and 30 min by default)"
      : '';
  return new SluiceError(kind, `${what}: ${message}${hint}`, {
    cause: err,
    ...(code !== undefined && code > 0 ? { kafkaErrorCode: code } : {}),
    ...(e?.isRetriable === true ? { retriable: true } : {}),
    details: {
      client: context,
      ...(code === undefined ? {} : { rdkafkaCode: code }),
      ...(e?.isFatal === true ? { fatal: true } : {}),
      ...(e?.isTxnRequiresAbort === true ? { txnRequiresAbort: true } : {}),
    },
  });
}

/** Runs a callback-style librdkafka call as a promise, translating its error. */
export function call<T = void>(
  what: string,
  context: 'producer' | 'consumer' | 'admin',
  fn: (cb: (err: unknown, value?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      fn((err, value) => (err ? reject(kafkaError(err, what, context)) : resolve(value as T)));
    } catch (err) {
      reject(kafkaError(err, what, context));
    }
  });
}

/** `topic:partition`, the key of per-partition maps. */
export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
