/**
 * `sluice registry` runs the Confluent-compatible schema registry; `sluice schemas
 * register|list|check` talk to any Confluent-compatible registry over HTTP.
 *
 * Storage: the `_schemas` topic (compacted, one partition) of the Kafka cluster at
 * `--bootstrap` (a Sluice broker or any Kafka; default localhost:9092, SASL flags as the
 * client commands), through transport/'s kafka implementation; or, with `--data-dir`, an
 * fsync'd append-only log on local disk for a registry without any cluster. Giving both is a
 * usage error. `sluice broker --registry` serves the registry from the broker's own
 * `_schemas` topic (embedded transport, see broker.ts); both print the same line.
 * Exit codes: `schemas check` exits 1 when the schema is incompatible, so CI can gate on it.
 */
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { isSluiceError, SluiceError } from '../../common/index.js';
import {
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
  createRegistryServer,
  FileStorage,
  RegistryClient,
  type RegistryServer,
  type RegistryStorage,
  type SchemaReference,
  TopicStorage,
} from '../../registry/index.js';
import { createKafkaTransport } from '../../transport/index.js';
import { addClientOptions, type ClientOptions, clientOptions } from '../kafka-client.js';
import { DEFAULT_REGISTRY_URL, readSchemaFile, schemaTypeOfFile, schemaTypeOption } from '../schema-files.js';

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`expected a port 0-65535, got '${value}'`);
  return n;
}

function parseReference(value: string, previous: SchemaReference[] = []): SchemaReference[] {
  const m = /^([^=]+)=([^:]+):(\d+)$/.exec(value);
  if (m === null) throw new InvalidArgumentError(`expected name=subject:version, got '${value}'`);
  return [...previous, { name: m[1], subject: m[2], version: Number(m[3]) }];
}

const urlOption = () =>
  new Option('--url <url>', 'schema registry URL').env('SLUICE_REGISTRY_URL').default(DEFAULT_REGISTRY_URL);
const typeOption = () =>
  schemaTypeOption('--type', 'schema type (default: from the file extension: .proto, .json, else AVRO)');

/** Writes to the CLI's stdout as configured on the program (runCli's io in tests). */
function out(cmd: Command, s: string): void {
  const write = cmd.configureOutput().writeOut;
  if (write === undefined) process.stdout.write(s);
  else write(s);
}

interface RegistryOpts extends ClientOptions {
  port: number;
  host: string;
  dataDir?: string;
  compatibility: string;
}

/** The line `sluice registry` and `sluice broker --registry` print once the registry listens. */
export function registryListeningLine(server: RegistryServer): string {
  return `schema registry listening on ${server.url} (storage ${server.registry.storage.description})\n`;
}

export function registerRegistryCommands(program: Command): void {
  addClientOptions(
    program
      .command('registry')
      .description('run the Confluent-compatible schema registry (schemas in the _schemas topic)')
      .addOption(
        new Option('--port <n>', 'port to listen on (0: any free port)').argParser(parsePort).default(8081),
      )
      .option('--host <host>', 'interface to listen on', '127.0.0.1')
      .option(
        '--data-dir <dir>',
        'keep the schema log in this local directory instead of a Kafka topic (no cluster needed)',
      )
      .addOption(
        new Option('--compatibility <level>', 'default compatibility level')
          .choices([...COMPATIBILITY_LEVELS])
          .default('BACKWARD'),
      )
      .addHelpText(
        'after',
        `
Schemas live in the compacted _schemas topic of the --bootstrap cluster (created if missing),
so they survive restarts of the registry and the broker. One registry per _schemas topic is
the intended setup; a second one on the same topic takes over writing (the first re-reads the
topic and retries its next write), so ids are never handed out twice.

Examples:
  sluice registry --port 8081 --bootstrap localhost:9092
  sluice registry --port 8081 --data-dir ./sluice-data/registry`,
      ),
  ).action(async (raw: RegistryOpts, cmd: Command) => {
    const opts = clientOptions(raw);
    let storage: RegistryStorage;
    let closeTransport = async (): Promise<void> => undefined;
    if (opts.dataDir !== undefined) {
      if (cmd.getOptionValueSource('bootstrap') !== 'default')
        throw new SluiceError(
          'USAGE',
          'give either --bootstrap (the _schemas topic) or --data-dir, not both',
        );
      storage = new FileStorage(resolve(opts.dataDir));
    } else {
      const transport = createKafkaTransport({
        bootstrap: opts.bootstrap,
        clientId: 'sluice-registry',
        requestTimeoutMs: opts.timeout,
        ...(opts.saslMechanism === undefined
          ? {}
          : {
              sasl: {
                mechanism: opts.saslMechanism,
                username: opts.saslUsername ?? '',
                password: opts.saslPassword ?? '',
              },
            }),
      });
      storage = new TopicStorage(transport);
      closeTransport = () => transport.close();
    }
    let server: RegistryServer;
    try {
      server = await createRegistryServer({
        storage,
        port: opts.port,
        host: opts.host,
        defaultCompatibility: opts.compatibility as CompatibilityLevel,
      });
    } catch (err) {
      await closeTransport();
      if (opts.dataDir === undefined && isSluiceError(err) && err.code !== 'INVALID_CONFIG')
        throw new SluiceError(
          err.code,
          `cannot open the _schemas topic on ${opts.bootstrap} (is the cluster up? --timeout ${opts.timeout} ms): ${err.message}`,
          { cause: err },
        );
      throw err;
    }
    out(cmd, registryListeningLine(server));
    const stop = (signal: NodeJS.Signals, code: number) => {
      process.once(signal, () => {
        void server
          .close()
          .then(closeTransport)
          .finally(() => process.exit(code));
      });
    };
    stop('SIGINT', 130);
    stop('SIGTERM', 143);
  });

  const schemas = program
    .command('schemas')
    .description('register, list and check schemas in a schema registry');
  schemas
    .command('register')
    .description('register a schema file under a subject; prints its id')
    .requiredOption('--subject <subject>', 'subject, e.g. orders-value')
    .requiredOption('--file <path>', 'schema file (.avsc, .json, .proto)')
    .addOption(urlOption())
    .addOption(typeOption())
    .option('--reference <name=subject:version>', 'a schema reference (repeatable)', parseReference)
    .option('--normalize', 'normalize the schema before registering')
    .action(
      async (
        opts: {
          subject: string;
          file: string;
          url: string;
          type?: string;
          reference?: SchemaReference[];
          normalize?: boolean;
        },
        cmd: Command,
      ) => {
        const client = new RegistryClient({ url: opts.url });
        const id = await client.register(
          opts.subject,
          {
            schema: readSchemaFile(opts.file),
            schemaType: schemaTypeOfFile(opts.file, opts.type),
            references: opts.reference,
          },
          { normalize: opts.normalize === true },
        );
        out(cmd, `${JSON.stringify({ subject: opts.subject, id })}\n`);
      },
    );
  schemas
    .command('list')
    .description('list subjects, or the versions of one subject')
    .option('--subject <subject>', 'list this subject’s versions')
    .option('--deleted', 'include soft-deleted subjects or versions')
    .addOption(urlOption())
    .action(async (opts: { subject?: string; deleted?: boolean; url: string }, cmd: Command) => {
      const client = new RegistryClient({ url: opts.url });
      const q = opts.deleted === true ? '?deleted=true' : '';
      const path =
        opts.subject === undefined
          ? `/subjects${q}`
          : `/subjects/${encodeURIComponent(opts.subject)}/versions${q}`;
      const list = await client.request<unknown[]>('GET', path);
      for (const item of list) out(cmd, `${String(item)}\n`);
    });
  schemas
    .command('check')
    .description('check a schema file against a subject’s versions; exits 1 when incompatible')
    .requiredOption('--subject <subject>', 'subject to check against')
    .requiredOption('--file <path>', 'schema file (.avsc, .json, .proto)')
    .option('--version <version>', 'check against this version only (default: per the subject’s level)')
    .addOption(urlOption())
    .addOption(typeOption())
    .option('--reference <name=subject:version>', 'a schema reference (repeatable)', parseReference)
    .action(
      async (
        opts: {
          subject: string;
          file: string;
          version?: string;
          url: string;
          type?: string;
          reference?: SchemaReference[];
        },
        cmd: Command,
      ) => {
        const client = new RegistryClient({ url: opts.url });
        const version = opts.version === undefined ? '' : `/${encodeURIComponent(opts.version)}`;
        const result = await client.request<{ is_compatible: boolean; messages?: string[] }>(
          'POST',
          `/compatibility/subjects/${encodeURIComponent(opts.subject)}/versions${version}?verbose=true`,
          {
            schema: readSchemaFile(opts.file),
            schemaType: schemaTypeOfFile(opts.file, opts.type),
            ...(opts.reference === undefined ? {} : { references: opts.reference }),
          },
        );
        if (result.is_compatible) {
          out(cmd, 'compatible\n');
          return;
        }
        throw new SluiceError(
          'SCHEMA_INCOMPATIBLE',
          `incompatible with subject ${opts.subject}:\n  ${(result.messages ?? []).join('\n  ')}`,
        );
      },
    );
}
