/**
 * `sluice registry` runs the Confluent-compatible schema registry; `sluice schemas
 * register|list|check` talk to any Confluent-compatible registry over HTTP.
 *
 * Storage: `--data-dir` (an fsync'd append-only `_schemas` log on local disk). The
 * issue's `--bootstrap` (the `_schemas` topic of a Kafka cluster) needs transport/, which
 * does not exist yet: the flag is accepted and refused with a clear UNSUPPORTED error.
 * Exit codes: `schemas check` exits 1 when the schema is incompatible, so CI can gate on it.
 */
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { SluiceError } from '../../common/index.js';
import {
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
  createRegistryServer,
  FileStorage,
  RegistryClient,
  type SchemaReference,
} from '../../registry/index.js';
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

export function registerRegistryCommands(program: Command): void {
  program
    .command('registry')
    .description('run the Confluent-compatible schema registry')
    .addOption(
      new Option('--port <n>', 'port to listen on (0: any free port)').argParser(parsePort).default(8081),
    )
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'directory of the durable _schemas log', './sluice-data/registry')
    .option(
      '--bootstrap <host:port>',
      'store schemas in the _schemas topic of this Kafka cluster (not available yet)',
    )
    .addOption(
      new Option('--compatibility <level>', 'default compatibility level')
        .choices([...COMPATIBILITY_LEVELS])
        .default('BACKWARD'),
    )
    .action(
      async (
        opts: { port: number; host: string; dataDir: string; bootstrap?: string; compatibility: string },
        cmd: Command,
      ) => {
        if (opts.bootstrap !== undefined) {
          throw new SluiceError(
            'UNSUPPORTED',
            `--bootstrap ${opts.bootstrap}: storing schemas in a Kafka _schemas topic needs the transport module, which is not built yet; use --data-dir`,
          );
        }
        const server = await createRegistryServer({
          storage: new FileStorage(resolve(opts.dataDir)),
          port: opts.port,
          host: opts.host,
          defaultCompatibility: opts.compatibility as CompatibilityLevel,
        });
        out(
          cmd,
          `schema registry listening on ${server.url} (storage ${server.registry.storage.description})\n`,
        );
        const stop = (signal: NodeJS.Signals, code: number) => {
          process.once(signal, () => {
            void server.close().finally(() => process.exit(code));
          });
        };
        stop('SIGINT', 130);
        stop('SIGTERM', 143);
      },
    );

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
