/**
 * The Kafka TCP server: accepts connections, splits frames, decodes requests with protocol/,
 * calls the handler registered for the API key and writes the encoded response.
 *
 * Per connection, requests are handled one at a time in arrival order and responses go out
 * in the same order (Kafka's rule: a client matches responses by order as well as by
 * correlation id). Clients may pipeline; frames wait in a queue, and reading pauses while the
 * queue is long or the socket's send buffer is full, so a fast client cannot grow memory.
 *
 * Bad input closes that one connection and nothing else: a frame size above
 * `maxRequestBytes` (checked before buffering), bytes that do not decode, an API key with no
 * handler, an unsupported version (except ApiVersions, answered with a v0 UNSUPPORTED_VERSION
 * response listing our versions, as Kafka does), a handler that throws. A client that
 * disconnects mid-request loses only its own pending work. The server never throws out of an
 * event handler.
 *
 * Responses are written as chunks inside cork/uncork, so Node sends them with one writev and
 * record batches from the log are never copied into the response.
 *
 * An optional `observer` (request-trace.ts, `SLUICE_BROKER_TRACE`) is told, per request, when
 * its frame was received, when its handler started and when its response was handed to the
 * socket. Without one the server reads no clocks.
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { createLogger, isSluiceError, SluiceError } from '../common/index.js';
import {
  API_VERSIONS_KEY,
  type ApiKey,
  type DecodedRequest,
  decodeRequest,
  encodeResponse,
  type ResponseInput,
  SUPPORTED_APIS,
} from '../protocol/index.js';
import { FrameSplitter } from './framing.js';
import { saslHandshakeHandler } from './handlers/17-sasl-handshake.js';
import {
  type ApiRange,
  apiVersionsResponse,
  unsupportedApiVersionsResponse,
} from './handlers/18-api-versions.js';
import { saslAuthenticateHandler } from './handlers/36-sasl-authenticate.js';
import type { SaslAuthenticator, SaslExchange } from './sasl.js';

const log = createLogger('broker');

export interface ConnectionContext {
  readonly id: number;
  readonly remoteAddress: string;
  /** Client id from the latest request header. */
  clientId: string | null;
  /** Authenticated principal (SASL), null when anonymous. */
  principal: string | null;
  /** The SASL exchange in progress, between SaslHandshake and its last SaslAuthenticate. */
  sasl: SaslExchange | null;
  /** Set by a handler to close the connection once its response is written. */
  closeAfterResponse: boolean;
}

export type RequestOf<K extends ApiKey> = Extract<DecodedRequest, { apiKey: K }>;

/** Returns the response body, or null to send nothing (Produce with acks=0). */
export type Handler<K extends ApiKey> = (
  request: RequestOf<K>,
  ctx: ConnectionContext,
) => ResponseInput<K> | null | Promise<ResponseInput<K> | null>;

export type HandlerTable = { [K in ApiKey]?: Handler<K> };

export interface KafkaServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Largest accepted request frame (Kafka's socket.request.max.bytes). Default 100 MiB. */
  maxRequestBytes?: number;
  /** Connections beyond this are closed on accept. Default 10 000. */
  maxConnections?: number;
  handlers: HandlerTable;
  /**
   * SASL authentication: when set, a connection may only send ApiVersions, SaslHandshake and
   * SaslAuthenticate until it has authenticated (anything else closes it, as in Kafka).
   */
  sasl?: SaslAuthenticator;
  /**
   * Called when a handler throws or its response does not encode: a broker bug, not bad
   * input (the connection is closed either way). For metrics and tests.
   */
  onHandlerError?: (err: unknown, apiKey: number, apiVersion: number) => void;
  /** Narrows the versions advertised and accepted for some APIs (below Sluice's supported range). */
  versionLimits?: Partial<Record<ApiKey, { min: number; max: number }>>;
  /** Told the timings of every handled request (diagnostics; see request-trace.ts). */
  observer?: RequestObserver;
}

/** Timings of one request, for a RequestObserver. Times from `performance.now()`. */
export interface RequestTiming {
  request: DecodedRequest;
  /** The response body given to the encoder, or null when none was sent. */
  response: unknown;
  /** When the 'data' event that completed the frame ran. */
  receivedAt: number;
  /** When its handler was called (later than receivedAt while earlier requests are handled). */
  startedAt: number;
  /** When the encoded response had been handed to the socket (or the handler returned null). */
  writtenAt: number;
}

export interface RequestObserver {
  /** Called synchronously after each handled request; must be cheap and never throw. */
  requestDone(timing: RequestTiming): void;
}

/** APIs a connection may use before SASL authentication. */
const PRE_AUTH_APIS = new Set([17, 18, 36]);

/** Frames queued per connection before reading pauses. */
const MAX_QUEUED_FRAMES = 64;

export class KafkaServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly handlers: HandlerTable;
  private readonly maxRequestBytes: number;
  private readonly maxConnections: number;
  private nextConnectionId = 1;
  /** @internal Whether connections must authenticate with SASL first. */
  readonly requireAuth: boolean;
  /** @internal Advertised range by API key. */
  readonly ranges: (ApiRange | undefined)[] = [];
  /** APIs advertised in ApiVersions: those with a handler, at Sluice's supported ranges. */
  readonly advertised: readonly ApiRange[];

  constructor(private readonly options: KafkaServerOptions) {
    this.maxRequestBytes = options.maxRequestBytes ?? 100 * 1024 * 1024;
    this.maxConnections = options.maxConnections ?? 10_000;
    const apiVersions: Handler<18> = () => apiVersionsResponse(this.advertised);
    const sasl: HandlerTable =
      options.sasl === undefined
        ? {}
        : { 17: saslHandshakeHandler(options.sasl), 36: saslAuthenticateHandler() };
    this.handlers = { [API_VERSIONS_KEY]: apiVersions, ...sasl, ...options.handlers };
    this.requireAuth = options.sasl !== undefined;
    const limits: Partial<Record<number, { min: number; max: number }>> = { ...options.versionLimits };
    this.advertised = SUPPORTED_APIS.filter((a) => this.handlers[a.key as ApiKey] !== undefined).map((a) => ({
      apiKey: a.key,
      minVersion: Math.max(a.minVersion, limits[a.key]?.min ?? a.minVersion),
      maxVersion: Math.min(a.maxVersion, limits[a.key]?.max ?? a.maxVersion),
    }));
    for (const a of this.advertised) this.ranges[a.apiKey] = a;
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server.on('error', (err) => log.error({ err }, 'server error'));
  }

  /** Starts listening; resolves with the bound address. */
  async listen(): Promise<{ host: string; port: number }> {
    this.server.listen(this.options.port ?? 9092, this.options.host ?? '127.0.0.1');
    await once(this.server, 'listening');
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string')
      throw new SluiceError('INTERNAL', 'server has no TCP address');
    return { host: addr.address, port: addr.port };
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  /** Stops accepting, closes every connection, resolves when the listener is closed. */
  async close(): Promise<void> {
    const closed = this.server.listening ? once(this.server, 'close') : Promise.resolve();
    this.server.close();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private accept(socket: Socket): void {
    if (this.sockets.size >= this.maxConnections) {
      log.warn({ remote: socket.remoteAddress, max: this.maxConnections }, 'connection limit reached');
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    const conn = new Connection(socket, this, this.nextConnectionId++);
    socket.on('close', () => {
      this.sockets.delete(socket);
      conn.closed = true;
    });
  }

  /** @internal */
  handlerFor(apiKey: number): Handler<ApiKey> | undefined {
    return this.handlers[apiKey as ApiKey] as Handler<ApiKey> | undefined;
  }

  /** @internal */
  reportHandlerError(err: unknown, apiKey: number, apiVersion: number): void {
    log.error({ err, apiKey, apiVersion }, 'handler failed or its response does not encode');
    this.options.onHandlerError?.(err, apiKey, apiVersion);
  }

  /** @internal */
  get frameLimit(): number {
    return this.maxRequestBytes;
  }

  /** @internal */
  get observer(): RequestObserver | undefined {
    return this.options.observer;
  }
}

class Connection {
  private readonly splitter: FrameSplitter;
  private readonly queue: Buffer[] = [];
  /** Receive time of each queued frame, kept only when the server has an observer. */
  private readonly received: number[] = [];
  private busy = false;
  closed = false;
  readonly ctx: ConnectionContext;

  constructor(
    private readonly socket: Socket,
    private readonly server: KafkaServer,
    id: number,
  ) {
    this.splitter = new FrameSplitter(server.frameLimit);
    this.ctx = {
      id,
      remoteAddress: socket.remoteAddress ?? '',
      clientId: null,
      principal: null,
      sasl: null,
      closeAfterResponse: false,
    };
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      log.debug({ err, conn: id }, 'connection error');
      socket.destroy();
    });
    socket.on('drain', () => this.maybeResume());
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.splitter.push(chunk);
    } catch (err) {
      this.fail('bad frame', err);
      return;
    }
    for (const f of frames) this.queue.push(f);
    if (this.server.observer !== undefined && frames.length > 0) {
      const now = performance.now();
      for (let i = 0; i < frames.length; i++) this.received.push(now);
    }
    if (this.queue.length >= MAX_QUEUED_FRAMES) this.socket.pause();
    if (!this.busy && this.queue.length > 0) void this.drain();
  }

  private maybeResume(): void {
    if (!this.closed && this.queue.length < MAX_QUEUED_FRAMES && !this.socket.writableNeedDrain)
      this.socket.resume();
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        await this.handle(this.queue.shift() as Buffer, this.received.shift() ?? 0);
        if (this.socket.writableNeedDrain) this.socket.pause();
        else this.maybeResume();
      }
    } finally {
      this.busy = false;
    }
  }

  private fail(why: string, err: unknown): void {
    log.debug({ err, conn: this.ctx.id, remote: this.ctx.remoteAddress }, `closing connection: ${why}`);
    this.queue.length = 0;
    this.received.length = 0;
    this.socket.destroy();
  }

  private async handle(frame: Buffer, receivedAt: number): Promise<void> {
    let req: DecodedRequest;
    try {
      req = decodeRequest(frame);
    } catch (err) {
      const details = isSluiceError(err, 'UNSUPPORTED') ? err.details : undefined;
      if (details?.apiKey === API_VERSIONS_KEY && typeof details.correlationId === 'number') {
        this.write(
          encodeResponse(
            18,
            0,
            details.correlationId,
            unsupportedApiVersionsResponse(this.server.advertised),
          ),
        );
        return;
      }
      this.fail('undecodable request', err);
      return;
    }
    this.ctx.clientId = req.clientId;
    const handler = this.server.handlerFor(req.apiKey);
    const range = this.server.ranges[req.apiKey];
    if (handler === undefined || range === undefined) {
      this.fail(`no handler for API ${req.apiKey}`, undefined);
      return;
    }
    if (req.apiVersion < range.minVersion || req.apiVersion > range.maxVersion) {
      this.fail(`API ${req.apiKey} v${req.apiVersion} is not advertised`, undefined);
      return;
    }
    if (this.server.requireAuth && this.ctx.principal === null && !PRE_AUTH_APIS.has(req.apiKey)) {
      this.fail(`API ${req.apiKey} before SASL authentication`, undefined);
      return;
    }
    const observer = this.server.observer;
    const startedAt = observer === undefined ? 0 : performance.now();
    let body: ResponseInput<ApiKey> | null;
    try {
      body = await handler(req as never, this.ctx);
    } catch (err) {
      this.server.reportHandlerError(err, req.apiKey, req.apiVersion);
      this.fail('handler failed', err);
      return;
    }
    if (body === null || this.closed) {
      observer?.requestDone({
        request: req,
        response: null,
        receivedAt,
        startedAt,
        writtenAt: performance.now(),
      });
      return;
    }
    let chunks: Buffer[];
    try {
      chunks = encodeResponse(req.apiKey, req.apiVersion, req.correlationId, body as never);
    } catch (err) {
      this.server.reportHandlerError(err, req.apiKey, req.apiVersion);
      this.fail('response does not encode', err);
      return;
    }
    this.write(chunks);
    observer?.requestDone({
      request: req,
      response: body,
      receivedAt,
      startedAt,
      writtenAt: performance.now(),
    });
    if (this.ctx.closeAfterResponse) {
      this.queue.length = 0;
      this.received.length = 0;
      this.socket.end();
    }
  }

  private write(chunks: Buffer[]): void {
    if (this.closed) return;
    if (chunks.length === 1) {
      this.socket.write(chunks[0] as Buffer);
      return;
    }
    this.socket.cork();
    for (const c of chunks) this.socket.write(c);
    this.socket.uncork();
  }
}
