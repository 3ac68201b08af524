/**
 * Request and response frames: header + body, driven by the API table.
 *
 * Frame layout (Kafka): int32 size, then the header, then the body.
 *   request header v1 (non-flexible request): int16 api key, int16 api version, int32
 *     correlation id, nullable string client id (always int16-length, even in v2);
 *   request header v2 (flexible request): v1 + tagged fields.
 *   response header v0: int32 correlation id; v1 (flexible response): + tagged fields.
 *   ApiVersions responses always use header v0, so a client that does not know the broker's
 *   versions can still read one (KIP-511).
 * Request header v0 (no client id) is only used by ControlledShutdown v0, which Sluice does
 * not support.
 *
 * `decodeRequest` takes a frame without its size prefix (the socket layer has read it and
 * checked it against the broker's limit). It throws SluiceError UNSUPPORTED for an unknown
 * API key or an unsupported version, with apiKey, apiVersion and correlationId in `details`
 * so the broker can still answer (e.g. ApiVersions v0 with UNSUPPORTED_VERSION), and
 * SluiceError PROTOCOL for anything malformed. Encoders return the frame with its size prefix.
 */
import { SluiceError } from '../common/index.js';
import {
  type ApiKey,
  apiByKey,
  type RequestBody,
  type RequestInput,
  type ResponseBody,
  type ResponseInput,
} from './apis.js';
import { compileMessage } from './codec.js';
import { ByteReader, ByteWriter } from './primitives.js';
import { inRange } from './schema.js';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** A decoded request; narrow on `apiKey` to get a typed body. */
export type DecodedRequest = {
  [K in ApiKey]: RequestHeader & { apiKey: K; body: RequestBody<K>; trailingBytes: number };
}[ApiKey];

export const API_VERSIONS_KEY = 18;

/** Whether a request or response of this API version uses the flexible (compact) encoding. */
export function isFlexible(apiKey: number, apiVersion: number): boolean {
  const api = apiByKey(apiKey);
  return api !== undefined && inRange(api.request.flexible, apiVersion);
}

/** Reads just the header of a request frame (no size prefix): for error replies. */
export function peekRequestHeader(frame: Uint8Array): Omit<RequestHeader, 'clientId'> {
  const r = new ByteReader(frame);
  return { apiKey: r.int16(), apiVersion: r.int16(), correlationId: r.int32() };
}

function unsupported(message: string, details: Record<string, unknown>): never {
  throw new SluiceError('UNSUPPORTED', message, { details, kafkaErrorCode: 35 });
}

/**
 * Most array elements one request may decode into (all arrays together). A Produce or Fetch
 * for every partition of a large cluster stays far below; a hostile frame of 100 MB of
 * one-byte elements stops here instead of becoming gigabytes of objects.
 */
export const MAX_REQUEST_ELEMENTS = 1_000_000;

export interface DecodeRequestOptions {
  /** Default MAX_REQUEST_ELEMENTS. */
  maxElements?: number;
}

export function decodeRequest(frame: Uint8Array, options: DecodeRequestOptions = {}): DecodedRequest {
  const r = new ByteReader(frame);
  r.elementBudget = options.maxElements ?? MAX_REQUEST_ELEMENTS;
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const api = apiByKey(apiKey);
  if (api === undefined) unsupported(`unsupported API key ${apiKey}`, { apiKey, apiVersion, correlationId });
  if (apiVersion < api.minVersion || apiVersion > api.maxVersion) {
    unsupported(`${api.name} v${apiVersion} is not supported (${api.minVersion}-${api.maxVersion})`, {
      apiKey,
      apiVersion,
      correlationId,
    });
  }
  const clientId = r.string();
  const flexible = inRange(api.request.flexible, apiVersion);
  if (flexible) skipTaggedFields(r);
  const body = compileMessage(api.request, apiVersion).decode(r);
  return {
    apiKey,
    apiVersion,
    correlationId,
    clientId,
    body,
    trailingBytes: r.remaining,
  } as DecodedRequest;
}

function skipTaggedFields(r: ByteReader): void {
  for (let n = r.uvarint(); n > 0; n--) {
    r.uvarint();
    const size = r.uvarint();
    r.raw(size);
  }
}

function apiOrThrow(apiKey: number, version: number): NonNullable<ReturnType<typeof apiByKey>> {
  const api = apiByKey(apiKey);
  if (api === undefined) unsupported(`unsupported API key ${apiKey}`, { apiKey, apiVersion: version });
  if (version < api.minVersion || version > api.maxVersion) {
    unsupported(`${api.name} v${version} is not supported (${api.minVersion}-${api.maxVersion})`, {
      apiKey,
      apiVersion: version,
    });
  }
  return api;
}

function responseHeaderFlexible(apiKey: number, version: number, flexibleVersions: string): boolean {
  return apiKey !== API_VERSIONS_KEY && inRange(flexibleVersions, version);
}

/**
 * Encodes a response frame (size prefix, header, body) as a list of chunks for writev.
 * Record batches passed as Buffers (or lists of Buffers) are not copied.
 */
export function encodeResponse<K extends ApiKey>(
  apiKey: K,
  version: number,
  correlationId: number,
  body: ResponseInput<K>,
): Buffer[] {
  const api = apiOrThrow(apiKey, version);
  const w = new ByteWriter(512);
  w.reserve(4);
  w.int32(correlationId);
  if (responseHeaderFlexible(apiKey, version, api.response.flexible)) w.uvarint(0);
  compileMessage(api.response, version).encode(w, body);
  const chunks = w.chunks();
  (chunks[0] as Buffer).writeInt32BE(w.byteLength - 4, 0);
  return chunks;
}

/** Encodes a request frame (size prefix included) as one Buffer: for tests and tools. */
export function encodeRequest<K extends ApiKey>(
  apiKey: K,
  version: number,
  correlationId: number,
  clientId: string | null,
  body: RequestInput<K>,
): Buffer {
  const api = apiOrThrow(apiKey, version);
  const w = new ByteWriter(256);
  w.reserve(4);
  w.int16(apiKey).int16(version).int32(correlationId).string(clientId);
  if (inRange(api.request.flexible, version)) w.uvarint(0);
  compileMessage(api.request, version).encode(w, body);
  const out = w.toBuffer();
  out.writeInt32BE(out.length - 4, 0);
  return out;
}

/** Decodes a response frame (without its size prefix) of a known API and version. */
export function decodeResponse<K extends ApiKey>(
  apiKey: K,
  version: number,
  frame: Uint8Array,
): { correlationId: number; body: ResponseBody<K>; trailingBytes: number } {
  const api = apiOrThrow(apiKey, version);
  const r = new ByteReader(frame);
  const correlationId = r.int32();
  if (responseHeaderFlexible(apiKey, version, api.response.flexible)) skipTaggedFields(r);
  const body = compileMessage<unknown, ResponseBody<K>>(api.response, version).decode(r);
  return { correlationId, body, trailingBytes: r.remaining };
}
