/**
 * The REST face of the registry: Confluent Schema Registry's HTTP API over fastify.
 *
 * Requests: bodies must be `application/vnd.schemaregistry.v1+json`,
 * `application/vnd.schemaregistry+json` or `application/json` (anything else: 415 with
 * error_code 415); bodies over `bodyLimit` bytes (default 16 MiB): 413 with error_code
 * 413; malformed JSON: 400 with error_code 400. Responses are
 * `application/vnd.schemaregistry.v1+json`; errors are `{error_code, message}` with
 * Confluent's codes and the HTTP status they imply (40401 → 404, 42201 → 422, …).
 * Every write answers only after the record is durable in the storage.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { createLogger, isSluiceError } from '../common/index.js';
import { RegistryErrorCodes as E, httpStatusOf, registryError, registryErrorCodeOf } from './errors.js';
import { type RegisterRequest, SchemaRegistry } from './registry.js';
import type { RegistryStorage } from './storage.js';
import { type CompatibilityLevel, SCHEMA_TYPES, type SchemaInput } from './types.js';

const log = createLogger('registry');

export const REGISTRY_CONTENT_TYPES = [
  'application/vnd.schemaregistry.v1+json',
  'application/vnd.schemaregistry+json',
  'application/json',
] as const;
const RESPONSE_TYPE = 'application/vnd.schemaregistry.v1+json';
export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;

export interface RegistryServerOptions {
  storage: RegistryStorage;
  port?: number;
  host?: string;
  bodyLimit?: number;
  defaultCompatibility?: CompatibilityLevel;
}

export interface RegistryServer {
  readonly registry: SchemaRegistry;
  readonly app: FastifyInstance;
  /** Base URL, e.g. http://127.0.0.1:8081 */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

type Req = FastifyRequest<{
  Params: Record<string, string>;
  Querystring: Record<string, string | undefined>;
  Body: unknown;
}>;

function flag(v: string | undefined): boolean {
  return v === 'true' || v === '';
}

function idParam(raw: string): number {
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < 1) throw registryError(E.SCHEMA_NOT_FOUND, `Schema ${raw} not found`);
  return n;
}

function body<T>(req: Req): T {
  const b = req.body;
  if (b === undefined || b === null || typeof b !== 'object' || Array.isArray(b)) {
    throw registryError(E.BAD_REQUEST, 'Request body must be a JSON object');
  }
  return b as T;
}

/** Builds the fastify app over an open registry (no listening). */
export function buildRegistryApp(
  registry: SchemaRegistry,
  opts: { bodyLimit?: number } = {},
): FastifyInstance {
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({ logger: false, bodyLimit });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    [...REGISTRY_CONTENT_TYPES],
    { parseAs: 'string', bodyLimit },
    (_req, text, done) => {
      const s = String(text);
      if (s.trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(s));
      } catch (err) {
        done(registryError(E.BAD_REQUEST, `Malformed JSON body: ${(err as Error).message}`), undefined);
      }
    },
  );

  app.setErrorHandler((err: unknown, _req, reply) => {
    const e = err as { code?: string; statusCode?: number; message?: string };
    let code: number;
    let message: string;
    if (isSluiceError(err)) {
      code = registryErrorCodeOf(err);
      message = err.message;
    } else if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      code = E.PAYLOAD_TOO_LARGE;
      message = `Request body is larger than the limit of ${bodyLimit} bytes`;
    } else if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      code = E.UNSUPPORTED_MEDIA_TYPE;
      message = `Unsupported Content-Type; use one of ${REGISTRY_CONTENT_TYPES.join(', ')}`;
    } else if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      code = e.statusCode;
      message = e.message ?? 'Bad request';
    } else {
      code = E.STORE_ERROR;
      message = `Internal error: ${e.message ?? String(err)}`;
      log.error({ err }, 'registry request failed');
    }
    void reply.code(httpStatusOf(code)).type(RESPONSE_TYPE).send({ error_code: code, message });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .type(RESPONSE_TYPE)
      .send({ error_code: 404, message: `HTTP 404 Not Found: ${req.method} ${req.url}` });
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (
      reply.getHeader('content-type') === undefined ||
      String(reply.getHeader('content-type')).startsWith('application/json')
    ) {
      reply.header('content-type', RESPONSE_TYPE);
    }
    return payload;
  });

  const r = registry;
  const schemaInput = (req: Req): SchemaInput => body<SchemaInput>(req);
  const send = (reply: FastifyReply, v: unknown) => reply.type(RESPONSE_TYPE).send(JSON.stringify(v));

  // The `/schema` endpoints return the schema text itself, as Confluent does (not a JSON string).
  const raw = (reply: FastifyReply, text: string) => reply.type(RESPONSE_TYPE).send(text);
  app.get('/', async (_req, reply) => send(reply, {}));
  app.get('/schemas/types', async (_req, reply) => send(reply, [...SCHEMA_TYPES]));
  app.get('/subjects', async (req: Req, reply) =>
    send(reply, r.subjects({ deleted: flag(req.query.deleted), prefix: req.query.subjectPrefix })),
  );
  app.get('/subjects/:subject/versions', async (req: Req, reply) =>
    send(reply, r.versions(req.params.subject, { deleted: flag(req.query.deleted) })),
  );
  app.post('/subjects/:subject/versions', async (req: Req, reply) =>
    send(
      reply,
      await r.register(req.params.subject, body<RegisterRequest>(req), {
        normalize: flag(req.query.normalize),
      }),
    ),
  );
  app.post('/subjects/:subject', async (req: Req, reply) =>
    send(
      reply,
      r.lookup(req.params.subject, schemaInput(req), {
        normalize: flag(req.query.normalize),
        deleted: flag(req.query.deleted),
      }),
    ),
  );
  app.delete('/subjects/:subject', async (req: Req, reply) =>
    send(reply, await r.deleteSubject(req.params.subject, { permanent: flag(req.query.permanent) })),
  );
  app.get('/subjects/:subject/versions/:version', async (req: Req, reply) =>
    send(reply, r.getVersion(req.params.subject, req.params.version, { deleted: flag(req.query.deleted) })),
  );
  app.get('/subjects/:subject/versions/:version/schema', async (req: Req, reply) =>
    raw(
      reply,
      r.getVersion(req.params.subject, req.params.version, { deleted: flag(req.query.deleted) }).schema,
    ),
  );
  app.get('/subjects/:subject/versions/:version/referencedby', async (req: Req, reply) =>
    send(reply, r.referencedBy(req.params.subject, req.params.version)),
  );
  app.delete('/subjects/:subject/versions/:version', async (req: Req, reply) =>
    send(
      reply,
      await r.deleteVersion(req.params.subject, req.params.version, { permanent: flag(req.query.permanent) }),
    ),
  );
  app.get('/schemas', async (req: Req, reply) =>
    send(
      reply,
      r.listSchemas({
        deleted: flag(req.query.deleted),
        prefix: req.query.subjectPrefix,
        latestOnly: flag(req.query.latestOnly),
      }),
    ),
  );
  app.get('/schemas/ids/:id', async (req: Req, reply) =>
    send(reply, r.getSchemaById(idParam(req.params.id))),
  );
  app.get('/schemas/ids/:id/schema', async (req: Req, reply) =>
    raw(reply, r.getSchemaById(idParam(req.params.id)).schema),
  );
  app.get('/schemas/ids/:id/versions', async (req: Req, reply) =>
    send(reply, r.subjectVersionsForId(idParam(req.params.id), { deleted: flag(req.query.deleted) })),
  );
  app.get('/schemas/ids/:id/subjects', async (req: Req, reply) =>
    send(reply, r.subjectsForId(idParam(req.params.id), { deleted: flag(req.query.deleted) })),
  );
  app.post('/compatibility/subjects/:subject/versions/:version', async (req: Req, reply) =>
    send(
      reply,
      r.checkCompatibility(req.params.subject, req.params.version, schemaInput(req), {
        verbose: flag(req.query.verbose),
      }),
    ),
  );
  app.post('/compatibility/subjects/:subject/versions', async (req: Req, reply) =>
    send(
      reply,
      r.checkCompatibility(req.params.subject, undefined, schemaInput(req), {
        verbose: flag(req.query.verbose),
      }),
    ),
  );
  app.get('/config', async (_req, reply) => send(reply, r.getConfig(null)));
  app.put('/config', async (req: Req, reply) => send(reply, await r.setConfig(null, body(req))));
  app.delete('/config', async (_req, reply) => send(reply, await r.deleteConfig(null)));
  app.get('/config/:subject', async (req: Req, reply) =>
    send(reply, r.getConfig(req.params.subject, { defaultToGlobal: flag(req.query.defaultToGlobal) })),
  );
  app.put('/config/:subject', async (req: Req, reply) =>
    send(reply, await r.setConfig(req.params.subject, body(req))),
  );
  app.delete('/config/:subject', async (req: Req, reply) =>
    send(reply, await r.deleteConfig(req.params.subject)),
  );
  app.get('/mode', async (_req, reply) => send(reply, r.getMode(null)));
  app.put('/mode', async (req: Req, reply) =>
    send(reply, await r.setMode(null, body(req), { force: flag(req.query.force) })),
  );
  app.get('/mode/:subject', async (req: Req, reply) =>
    send(reply, r.getMode(req.params.subject, { defaultToGlobal: flag(req.query.defaultToGlobal) })),
  );
  app.put('/mode/:subject', async (req: Req, reply) =>
    send(reply, await r.setMode(req.params.subject, body(req), { force: flag(req.query.force) })),
  );
  app.delete('/mode/:subject', async (req: Req, reply) =>
    send(reply, await r.deleteMode(req.params.subject)),
  );
  return app;
}

/** Opens the storage, replays it and listens. The CLI's `sluice registry` calls this. */
export async function createRegistryServer(options: RegistryServerOptions): Promise<RegistryServer> {
  const registry = await SchemaRegistry.open(options.storage, {
    defaultCompatibility: options.defaultCompatibility,
  });
  const app = buildRegistryApp(registry, { bodyLimit: options.bodyLimit });
  const host = options.host ?? '127.0.0.1';
  try {
    await app.listen({ port: options.port ?? 8081, host });
  } catch (err) {
    await registry.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 8081);
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  log.info({ port, host, storage: options.storage.description }, 'schema registry listening');
  return {
    registry,
    app,
    url: `http://${urlHost}:${port}`,
    port,
    async close() {
      await app.close();
      await registry.close();
    },
  };
}
