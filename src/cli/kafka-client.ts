/**
 * The Kafka client behind `sluice topics|produce|consume|groups`: a small wrapper around
 * @confluentinc/kafka-javascript (librdkafka), so the commands work against any Kafka cluster,
 * Sluice's embedded broker or a real one.
 *
 * - Connection options shared by every client command (`addClientOptions`): --bootstrap
 *   (env SLUICE_BOOTSTRAP, default localhost:9092), SASL PLAIN / SCRAM-SHA-256/512, --timeout.
 * - Every call is bounded by --timeout: librdkafka retries an unreachable broker forever, so
 *   each command first fetches metadata within the timeout and fails with SluiceError NETWORK
 *   naming the bootstrap servers instead of hanging.
 * - Topic configurations (DescribeConfigs, IncrementalAlterConfigs) are not exposed by this
 *   version of the confluent client, so `ConfigClient` sends those two requests itself over
 *   one TCP connection with protocol/'s codec (SASL PLAIN and SCRAM included; no TLS).
 *
 * Errors: librdkafka errors are translated into SluiceError (NOT_FOUND for an unknown topic,
 * ALREADY_EXISTS, NETWORK, TIMEOUT), so runCli maps them to exit 1 with a clear message.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import ck from '@confluentinc/kafka-javascript';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { SluiceError } from '../common/index.js';
import {
  type ApiKey,
  decodeResponse,
  encodeRequest,
  kafkaError,
  type RequestInput,
  type ResponseBody,
} from '../protocol/index.js';
import {
  rdkafkaConnectionConfig,
  SASL_MECHANISM_CHOICES,
  type SaslMechanismChoice,
} from '../transport/index.js';

const { KafkaJS, RdKafka } = ck;

export const DEFAULT_BOOTSTRAP = 'localhost:9092';
export { SASL_MECHANISM_CHOICES, type SaslMechanismChoice };

export interface ClientOptions {
  bootstrap: string;
  saslMechanism?: SaslMechanismChoice;
  saslUsername?: string;
  saslPassword?: string;
  /** Bound on connecting and on each admin request, in ms. */
  timeout: number;
}

/** Parses a non-negative integer flag value (offsets, partitions). */
export function parseNonNegativeInt(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError(`expected a non-negative integer, got '${value}'`);
  return n;
}

function parseBootstrap(value: string): string {
  const parts = value.split(',').map((s) => s.trim());
  for (const p of parts) {
    const m = /^(\[[^\]]+\]|[^:\s]+):(\d+)$/.exec(p);
    const port = m === null ? Number.NaN : Number(m[2]);
    if (m === null || !Number.isInteger(port) || port < 1 || port > 65535)
      throw new InvalidArgumentError(`expected host:port[,host:port…], got '${value}'`);
  }
  return parts.join(',');
}

function parseTimeout(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError(`expected milliseconds > 0, got '${value}'`);
  return n;
}

/** Collects repeatable `k=v` flags (--config, --header) into an ordered list of pairs. */
export function parseKeyValue(value: string, previous: [string, string][] = []): [string, string][] {
  const i = value.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError(`expected key=value, got '${value}'`);
  return [...previous, [value.slice(0, i), value.slice(i + 1)]];
}

/** Adds the connection flags every client command takes. */
export function addClientOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--bootstrap <host:port,…>', 'Kafka bootstrap servers (Sluice or any Kafka)')
        .env('SLUICE_BOOTSTRAP')
        .default(DEFAULT_BOOTSTRAP)
        .argParser(parseBootstrap),
    )
    .addOption(
      new Option('--sasl-mechanism <mechanism>', 'SASL mechanism (default: no SASL)').choices(
        SASL_MECHANISM_CHOICES,
      ),
    )
    .addOption(new Option('--sasl-username <name>', 'SASL user name').env('SLUICE_SASL_USERNAME'))
    .addOption(new Option('--sasl-password <password>', 'SASL password').env('SLUICE_SASL_PASSWORD'))
    .addOption(
      new Option('--timeout <ms>', 'give up connecting or waiting for the cluster after this long')
        .argParser(parseTimeout)
        .default(10_000),
    );
}

/** Checks the SASL flags together (commander checks each alone). Throws USAGE. */
export function clientOptions<T extends ClientOptions>(opts: T): T {
  const { saslMechanism, saslUsername, saslPassword } = opts;
  if (saslMechanism !== undefined && (saslUsername === undefined || saslPassword === undefined))
    throw new SluiceError(
      'USAGE',
      `--sasl-mechanism ${saslMechanism} needs --sasl-username and --sasl-password`,
    );
  if (saslMechanism === undefined && (saslUsername !== undefined || saslPassword !== undefined))
    throw new SluiceError('USAGE', '--sasl-username/--sasl-password need --sasl-mechanism');
  return opts;
}

/** librdkafka properties for the connection flags (the transport's connection config). */
export function rdkafkaConfig(opts: ClientOptions): Record<string, string | number | boolean> {
  return rdkafkaConnectionConfig({
    bootstrap: opts.bootstrap,
    clientId: 'sluice-cli',
    timeoutMs: opts.timeout,
    sasl:
      opts.saslMechanism === undefined
        ? undefined
        : {
            mechanism: opts.saslMechanism,
            username: opts.saslUsername ?? '',
            password: opts.saslPassword ?? '',
          },
  });
}

type LibError = Error & { code?: number; type?: string };

/** Translates a client library error into a SluiceError with a message naming what failed. */
export function translateError(err: unknown, opts: ClientOptions, what: string, topic?: string): SluiceError {
  if (err instanceof SluiceError) return err;
  const e = err as LibError;
  const msg = e?.message ?? String(err);
  const code = e?.code;
  if (code === 3 || code === -188 || /unknown topic/i.test(msg))
    return new SluiceError('NOT_FOUND', `topic '${topic ?? '?'}' does not exist (${what})`, { cause: err });
  if (code === 36 || /already exists/i.test(msg))
    return new SluiceError('ALREADY_EXISTS', `topic '${topic ?? '?'}' already exists`, { cause: err });
  if (code === 58 || code === 31 || /authentication|sasl/i.test(msg))
    return new SluiceError('NETWORK', `authentication with ${opts.bootstrap} failed: ${msg}`, { cause: err });
  if (code === -195 || code === -187 || /transport|all broker|connect/i.test(msg))
    return new SluiceError(
      'NETWORK',
      `cannot reach Kafka at ${opts.bootstrap} within ${opts.timeout} ms (${what}): ${msg}`,
      { cause: err },
    );
  if (code === -185 || /timed out/i.test(msg))
    return new SluiceError(
      'TIMEOUT',
      `${what}: no answer from ${opts.bootstrap} within ${opts.timeout} ms (${msg})`,
      {
        cause: err,
      },
    );
  return new SluiceError('IO', `${what} failed: ${msg}`, { cause: err, kafkaErrorCode: code });
}

export type Admin = ReturnType<InstanceType<typeof KafkaJS.Kafka>['admin']>;
export type TopicMetadata = Awaited<ReturnType<Admin['fetchTopicMetadata']>>[number];

/** Runs `fn` with a connected admin client, after checking the cluster answers in time. */
export async function withAdmin<T>(opts: ClientOptions, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new KafkaJS.Kafka({}).admin({
    ...rdkafkaConfig(opts),
    kafkaJS: { logLevel: KafkaJS.logLevel.NOTHING },
  } as never);
  try {
    await admin.connect();
  } catch (err) {
    throw translateError(err, opts, 'connect');
  }
  try {
    try {
      await admin.listTopics({ timeout: opts.timeout });
    } catch (err) {
      throw await diagnose(translateError(err, opts, 'metadata'), opts);
    }
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * librdkafka reports a refused SASL login and a dead broker alike ("transport failure"). Sluice's
 * own connection (ConfigClient) tells them apart: a SASL error, or a broker that accepts TCP but
 * not the client's handshake (SASL or TLS required), gets a message saying so.
 */
async function diagnose(failure: SluiceError, opts: ClientOptions): Promise<SluiceError> {
  if (failure.code !== 'NETWORK') return failure;
  let probe: ConfigClient;
  try {
    probe = await ConfigClient.open({ ...opts, timeout: Math.min(opts.timeout, 3000) });
  } catch (err) {
    return err instanceof SluiceError && /authentication/.test(err.message) ? err : failure;
  }
  probe.close();
  return new SluiceError(
    'NETWORK',
    `${opts.bootstrap} accepts connections but the Kafka client could not use them (${failure.message}); does the cluster require SASL (--sasl-mechanism) or TLS?`,
    { cause: failure },
  );
}

/** Metadata of one topic; NOT_FOUND naming it when the cluster does not have it. */
export async function topicMetadata(
  admin: Admin,
  opts: ClientOptions,
  topic: string,
): Promise<TopicMetadata> {
  const topics = await admin.listTopics({ timeout: opts.timeout }).catch((err: unknown) => {
    throw translateError(err, opts, 'list topics', topic);
  });
  if (!topics.includes(topic)) throw new SluiceError('NOT_FOUND', `topic '${topic}' does not exist`);
  try {
    const [md] = await admin.fetchTopicMetadata({ topics: [topic], timeout: opts.timeout });
    if (md === undefined) throw new SluiceError('NOT_FOUND', `topic '${topic}' does not exist`);
    return md;
  } catch (err) {
    throw translateError(err, opts, 'describe topic', topic);
  }
}

/** CreatePartitions through the node-rdkafka-style admin (the KafkaJS one lacks it). */
export async function createPartitions(opts: ClientOptions, topic: string, total: number): Promise<void> {
  const client = RdKafka.AdminClient.create(rdkafkaConfig(opts) as never);
  try {
    await new Promise<void>((resolve, reject) => {
      client.createPartitions(topic, total, opts.timeout, (err) => (err ? reject(err) : resolve()));
    });
  } catch (err) {
    throw translateError(err, opts, `create partitions of '${topic}'`, topic);
  } finally {
    client.disconnect();
  }
}

// ---- DescribeConfigs / IncrementalAlterConfigs over protocol/ ----

const RESOURCE_TOPIC = 2;
const CONFIG_SOURCES: Record<number, string> = {
  [-1]: 'unknown',
  1: 'topic',
  2: 'dynamic-broker',
  3: 'dynamic-default-broker',
  4: 'static-broker',
  5: 'default',
  6: 'dynamic-broker-logger',
};

export interface ConfigEntry {
  name: string;
  value: string | null;
  source: string;
  readOnly: boolean;
  sensitive: boolean;
}

/** One request/response connection to a broker, speaking protocol/'s codec. */
class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  private correlation = 0;
  private waiting = new Map<number, { resolve: (frame: Uint8Array) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const fail = (err: Error) => {
      this.failure ??= err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed by the broker')));
  }

  static open(host: string, port: number, timeoutMs: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new Connection(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 4) {
      const size = this.buffer.readInt32BE(0);
      if (this.buffer.length < 4 + size) return;
      const frame = this.buffer.subarray(4, 4 + size);
      this.buffer = this.buffer.subarray(4 + size);
      const id = frame.readInt32BE(0);
      const w = this.waiting.get(id);
      this.waiting.delete(id);
      w?.resolve(frame);
    }
  }

  async request<K extends ApiKey>(
    apiKey: K,
    version: number,
    body: RequestInput<K>,
    timeoutMs: number,
  ): Promise<ResponseBody<K>> {
    if (this.failure) throw this.failure;
    const id = ++this.correlation;
    const frame = await new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`request timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.socket.write(encodeRequest(apiKey, version, id, 'sluice-cli', body));
    });
    return decodeResponse(apiKey, version, frame).body;
  }

  close(): void {
    this.socket.destroy();
  }
}

function scramExchange(mechanism: 'scram-sha-256' | 'scram-sha-512', user: string, password: string) {
  const hash = mechanism === 'scram-sha-256' ? 'sha256' : 'sha512';
  const keyLen = hash === 'sha256' ? 32 : 64;
  const nonce = randomBytes(18).toString('base64');
  const bare = `n=${user.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${nonce}`;
  return {
    first: Buffer.from(`n,,${bare}`),
    final(serverFirst: string): { message: Buffer; serverSignature: string } {
      const attrs = new Map(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)] as [string, string]));
      const r = attrs.get('r') ?? '';
      if (!r.startsWith(nonce)) throw new Error('SCRAM: server nonce does not extend the client nonce');
      const salted = pbkdf2Sync(
        password,
        Buffer.from(attrs.get('s') ?? '', 'base64'),
        Number(attrs.get('i')),
        keyLen,
        hash,
      );
      const clientKey = createHmac(hash, salted).update('Client Key').digest();
      const storedKey = createHash(hash).update(clientKey).digest();
      const withoutProof = `c=biws,r=${r}`;
      const authMessage = `${bare},${serverFirst},${withoutProof}`;
      const signature = createHmac(hash, storedKey).update(authMessage).digest();
      const proof = Buffer.from(clientKey.map((b, i) => b ^ (signature[i] ?? 0)));
      const serverKey = createHmac(hash, salted).update('Server Key').digest();
      const serverSignature = createHmac(hash, serverKey).update(authMessage).digest('base64');
      return { message: Buffer.from(`${withoutProof},p=${proof.toString('base64')}`), serverSignature };
    },
  };
}

async function authenticate(conn: Connection, opts: ClientOptions): Promise<void> {
  const mechanism = opts.saslMechanism;
  if (mechanism === undefined) return;
  const t = opts.timeout;
  const hs = await conn.request(17, 1, { mechanism: mechanism.toUpperCase() }, t);
  if (hs.errorCode !== 0)
    throw new Error(
      `SASL mechanism ${mechanism.toUpperCase()} refused (broker offers ${hs.mechanisms.join(', ')})`,
    );
  const step = async (bytes: Buffer): Promise<Buffer> => {
    const r = await conn.request(36, 1, { authBytes: bytes }, t);
    if (r.errorCode !== 0)
      throw new Error(`SASL authentication failed: ${r.errorMessage ?? kafkaError(r.errorCode)?.name}`);
    return Buffer.from(r.authBytes);
  };
  const user = opts.saslUsername ?? '';
  const password = opts.saslPassword ?? '';
  if (mechanism === 'plain') {
    await step(Buffer.from(`\0${user}\0${password}`));
    return;
  }
  const scram = scramExchange(mechanism, user, password);
  const serverFirst = (await step(scram.first)).toString();
  const { message, serverSignature } = scram.final(serverFirst);
  const serverFinal = (await step(message)).toString();
  if (serverFinal !== `v=${serverSignature}`) throw new Error('SCRAM: the server signature does not verify');
}

/** DescribeConfigs and IncrementalAlterConfigs for topics, against the first reachable bootstrap server. */
export class ConfigClient {
  private constructor(
    private readonly conn: Connection,
    private readonly opts: ClientOptions,
  ) {}

  static async open(opts: ClientOptions): Promise<ConfigClient> {
    let last: unknown;
    for (const server of opts.bootstrap.split(',')) {
      const i = server.lastIndexOf(':');
      const host = server.slice(0, i).replace(/^\[|\]$/g, '');
      try {
        const conn = await Connection.open(host, Number(server.slice(i + 1)), opts.timeout);
        try {
          await authenticate(conn, opts);
        } catch (err) {
          conn.close();
          throw new SluiceError('NETWORK', `authentication with ${server} failed: ${(err as Error).message}`);
        }
        return new ConfigClient(conn, opts);
      } catch (err) {
        if (err instanceof SluiceError) throw err;
        last = err;
      }
    }
    throw new SluiceError(
      'NETWORK',
      `cannot reach Kafka at ${opts.bootstrap} within ${opts.timeout} ms: ${(last as Error)?.message}`,
      { cause: last },
    );
  }

  async describeTopic(topic: string): Promise<ConfigEntry[]> {
    const r = await this.conn.request(
      32,
      1,
      {
        resources: [{ resourceType: RESOURCE_TOPIC, resourceName: topic, configurationKeys: null }],
        includeSynonyms: false,
      },
      this.opts.timeout,
    );
    const res = r.results[0];
    if (res === undefined)
      throw new SluiceError('PROTOCOL', `DescribeConfigs for '${topic}' returned no result`);
    if (res.errorCode !== 0)
      throw this.kafkaFailure(res.errorCode, res.errorMessage, topic, 'describe configs');
    return res.configs.map((c) => ({
      name: c.name,
      value: c.value,
      source: CONFIG_SOURCES[c.configSource] ?? String(c.configSource),
      readOnly: c.readOnly,
      sensitive: c.isSensitive,
    }));
  }

  /** Sets (value) or deletes (null: back to the default) topic configs. */
  async alterTopic(topic: string, changes: [string, string | null][]): Promise<void> {
    const r = await this.conn.request(
      44,
      0,
      {
        resources: [
          {
            resourceType: RESOURCE_TOPIC,
            resourceName: topic,
            configs: changes.map(([name, value]) => ({
              name,
              configOperation: value === null ? 1 : 0,
              value,
            })),
          },
        ],
        validateOnly: false,
      },
      this.opts.timeout,
    );
    const res = r.responses[0];
    if (res === undefined)
      throw new SluiceError('PROTOCOL', `IncrementalAlterConfigs for '${topic}' returned no result`);
    if (res.errorCode !== 0) throw this.kafkaFailure(res.errorCode, res.errorMessage, topic, 'alter configs');
  }

  private kafkaFailure(code: number, message: string | null, topic: string, what: string): SluiceError {
    const name = kafkaError(code)?.name ?? `error ${code}`;
    if (code === 3)
      return new SluiceError('NOT_FOUND', `topic '${topic}' does not exist`, { kafkaErrorCode: code });
    // INVALID_CONFIG (40), INVALID_REQUEST (42): the user's --config value; exit 2 like any bad flag.
    const kind = code === 40 || code === 42 ? 'INVALID_ARGUMENT' : 'IO';
    return new SluiceError(kind, `${what} of '${topic}': ${name}${message ? `: ${message}` : ''}`, {
      kafkaErrorCode: code,
    });
  }

  close(): void {
    this.conn.close();
  }
}

let stdoutClosed = false;
let pipeGuard = false;

/**
 * `sluice consume … | head` closes stdout early: without a listener the EPIPE 'error' event
 * would crash the process with a stack trace. Installed once; `isStdoutClosed` lets a
 * long-running command stop cleanly.
 */
export function guardBrokenPipe(): void {
  if (pipeGuard) return;
  pipeGuard = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') stdoutClosed = true;
    else throw e;
  });
}

export function isStdoutClosed(): boolean {
  return stdoutClosed;
}

/** Writes to the CLI's stdout as configured on the program (runCli's io in tests). */
export function out(cmd: Command, s: string): void {
  guardBrokenPipe();
  if (stdoutClosed) return;
  const write = cmd.configureOutput().writeOut;
  if (write === undefined) process.stdout.write(s);
  else write(s);
}

/** Writes to the CLI's stderr (diagnostics, summaries; never data). */
export function err(cmd: Command, s: string): void {
  const write = cmd.configureOutput().writeErr;
  if (write === undefined) process.stderr.write(s);
  else write(s);
}
