/**
 * `sluice produce <topic>`: one record per line of stdin or --file, to any Kafka cluster.
 *
 * Lines are split into key and value at the first --key-separator (a line without it is an
 * error naming the line number); --header k=v adds the same headers to every record, and
 * --parse-headers reads per-record headers from the start of each line (`k=v,k=v<TAB>`, the
 * format `sluice consume --print-headers` writes, so a topic can be copied through a pipe;
 * header keys or values containing ',', '=' or a tab do not survive that text form). The
 * librdkafka producer (cli/producer.ts, shared with `sluice datagen`) batches and compresses;
 * the command waits for every delivery report before it prints its summary to stderr
 * (records, bytes, seconds, rate), so exit 0 means the cluster acknowledged every record at
 * the requested --acks. A progress bar (cli-progress, on stderr) is shown for a file (--file
 * or stdin redirected from one) when stderr is a TTY, or always with --progress; a pipe has
 * no known size and gets only the summary.
 *
 * Bounded: the cluster must answer within --timeout before anything is read, and a record not
 * delivered within max(3 × --timeout, 30 s) fails the command (exit 1) instead of hanging.
 *
 * Schemas: with --value-schema <file> (type from --schema-type, else the extension: .proto,
 * .json, else Avro) the schema is registered (or found) under `<topic>-value` in the registry
 * at --registry before any input is read (an incompatible schema fails there, nothing sent),
 * and each line's value is parsed as JSON and encoded in Confluent's wire format (magic 0,
 * schema id, Avro binary / JSON text / Protobuf with message indexes). A line that is not JSON
 * or does not match the schema fails the command naming the line (earlier lines were sent).
 */
import { createReadStream, fstatSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import cliProgress from 'cli-progress';
import { type Command, Option } from 'commander';
import { SluiceError } from '../../common/index.js';
import { RegistryClient, serializer } from '../../registry/index.js';
import {
  addClientOptions,
  type ClientOptions,
  clientOptions,
  err,
  parseKeyValue,
  parseNonNegativeInt,
} from '../kafka-client.js';
import { CliProducer, COMPRESSION_CHOICES, type Compression } from '../producer.js';
import { readSchemaFile, schemaTypeOfFile, schemaTypeOption } from '../schema-files.js';

interface ProduceOpts extends ClientOptions {
  file?: string;
  keySeparator?: string;
  header?: [string, string][];
  partition?: number;
  compression: Compression;
  acks: '0' | '1' | 'all';
  progress?: boolean;
  parseHeaders?: boolean;
  valueSchema?: string;
  schemaType?: string;
  registry?: string;
}

/** The value encoder of --value-schema: registers the schema first, so a refusal sends nothing. */
async function valueEncoder(
  opts: ProduceOpts,
  topic: string,
): Promise<((line: string, lineNo: number) => Promise<Buffer>) | undefined> {
  if (opts.valueSchema === undefined) {
    if (opts.schemaType !== undefined)
      throw new SluiceError('USAGE', '--schema-type needs --value-schema <file>');
    return undefined;
  }
  if (opts.registry === undefined)
    throw new SluiceError('USAGE', '--value-schema needs --registry <url> (or SLUICE_REGISTRY_URL)');
  const client = new RegistryClient({ url: opts.registry });
  const subject = `${topic}-value`;
  const schema = {
    schema: readSchemaFile(opts.valueSchema),
    schemaType: schemaTypeOfFile(opts.valueSchema, opts.schemaType),
  };
  await client.register(subject, schema);
  const encode = serializer(client, subject, schema);
  return async (text, lineNo) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new SluiceError(
        'INVALID_RECORD',
        `line ${lineNo}: the value is not JSON (${(e as Error).message}); records before it were sent`,
      );
    }
    try {
      return await encode(value);
    } catch (e) {
      throw new SluiceError(
        'INVALID_RECORD',
        `line ${lineNo}: ${(e as Error).message}; records before it were sent`,
        { cause: e },
      );
    }
  };
}

/** `k=v,k2=v2` (what `sluice consume --print-headers` prints) as record headers. */
function parseLineHeaders(text: string, lineNo: number): { [k: string]: Buffer }[] {
  if (text === '') return [];
  return text.split(',').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new SluiceError('INVALID_RECORD', `line ${lineNo}: header '${pair}' is not k=v`);
    return { [pair.slice(0, eq)]: Buffer.from(pair.slice(eq + 1)) };
  });
}

/** Unescapes \t and \n so a tab separator can be typed as '\t'. */
function unescapeSeparator(s: string): string {
  return s.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

export function registerProduceCommand(program: Command): void {
  addClientOptions(
    program
      .command('produce <topic>')
      .description('produce one record per line of stdin or a file')
      .option('--file <path>', 'read lines from this file instead of stdin')
      .option(
        '--key-separator <sep>',
        'split each line into key and value at the first <sep> (\\t for a tab)',
      )
      .option('--header <key=value>', 'add this header to every record (repeatable)', parseKeyValue)
      .option(
        '--partition <n>',
        'write every record to this partition (default: by key)',
        parseNonNegativeInt,
      )
      .addOption(
        new Option('--compression <codec>', 'compression codec').choices(COMPRESSION_CHOICES).default('none'),
      )
      .addOption(
        new Option('--acks <acks>', 'acknowledgements to wait for').choices(['0', '1', 'all']).default('all'),
      )
      .option(
        '--parse-headers',
        "each line starts with its own headers, k=v,k2=v2 then a tab (consume --print-headers' format)",
      )
      .option('--progress', 'show a progress bar even when stderr is not a terminal')
      .option(
        '--value-schema <file>',
        'encode each line (JSON) with this schema, registered under <topic>-value (needs --registry)',
      )
      .addOption(
        schemaTypeOption(
          '--schema-type',
          'type of --value-schema: avro, json, protobuf (default: from the extension, .proto, .json, else avro)',
        ),
      )
      .addOption(
        new Option('--registry <url>', 'schema registry URL for --value-schema').env('SLUICE_REGISTRY_URL'),
      )
      .addHelpText(
        'after',
        `
Examples:
  echo 'hello' | sluice produce greetings
  sluice produce orders --file orders.txt --key-separator : --header source=import --compression zstd
  sluice consume orders --from-beginning --print-headers --format kv --key-separator : --timeout-ms 2000 \\
    | sluice produce orders-copy --parse-headers --key-separator :
  echo '{"id": 1, "amount": 9.5}' | sluice produce payments --value-schema payment.avsc --registry http://127.0.0.1:8081
  sluice produce orders --bootstrap kafka:9092 --sasl-mechanism scram-sha-256 --sasl-username app --sasl-password s3cret < orders.txt`,
      ),
  ).action(async (topic: string, raw: ProduceOpts, cmd: Command) => {
    const opts = clientOptions(raw);
    if (opts.keySeparator === '') throw new SluiceError('USAGE', '--key-separator must not be empty');
    const separator = opts.keySeparator === undefined ? undefined : unescapeSeparator(opts.keySeparator);
    let input: Readable;
    let total: number | undefined;
    if (opts.file !== undefined) {
      try {
        total = statSync(opts.file).size;
      } catch (e) {
        throw new SluiceError('INVALID_ARGUMENT', `cannot read --file ${opts.file}: ${(e as Error).message}`);
      }
      input = createReadStream(opts.file);
    } else {
      input = process.stdin;
      // `sluice produce t < big.txt`: stdin is a file of known size, so the bar can show it.
      try {
        const st = fstatSync(0);
        if (st.isFile()) total = st.size;
      } catch {
        // No stdin (closed): nothing to size.
      }
    }
    // Fails fast (and bounded) when the cluster is unreachable, before reading any input.
    const producer = await CliProducer.open(opts, {
      topic,
      acks: opts.acks,
      compression: opts.compression,
    });
    // Registers (or looks up) the value schema before any input is read: an incompatible
    // schema sends nothing.
    const encodeValue = await valueEncoder(opts, topic).catch(async (e: unknown) => {
      await producer.close();
      throw e;
    });
    const headers: { [k: string]: Buffer }[] = (opts.header ?? []).map(([k, v]) => ({ [k]: Buffer.from(v) }));

    const showBar =
      total !== undefined && total > 0 && (opts.progress === true || process.stderr.isTTY === true);
    const bar = showBar
      ? new cliProgress.SingleBar(
          {
            stream: process.stderr,
            noTTYOutput: opts.progress === true,
            format: 'produce [{bar}] {percentage}% | {value}/{total} bytes | {records} records | ETA {eta}s',
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
    bar?.start(total ?? 0, 0, { records: 0 });

    const started = process.hrtime.bigint();
    let lineNo = 0;
    try {
      const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
      for await (const raw of lines) {
        lineNo++;
        if (producer.failed) break;
        let line = raw;
        let recordHeaders = headers;
        if (opts.parseHeaders === true) {
          const tab = line.indexOf('\t');
          if (tab < 0)
            throw new SluiceError(
              'INVALID_RECORD',
              `line ${lineNo}: --parse-headers expects k=v,… and a tab before the record (records before it were sent)`,
            );
          recordHeaders = [...headers, ...parseLineHeaders(line.slice(0, tab), lineNo)];
          line = line.slice(tab + 1);
        }
        let key: Buffer | null = null;
        if (separator !== undefined) {
          const at = line.indexOf(separator);
          if (at < 0)
            throw new SluiceError(
              'INVALID_RECORD',
              `line ${lineNo}: no key separator ${JSON.stringify(separator)} (records before it were sent)`,
            );
          key = Buffer.from(line.slice(0, at));
          line = line.slice(at + separator.length);
        }
        const value = encodeValue === undefined ? Buffer.from(line) : await encodeValue(line, lineNo);
        const wait = producer.send(opts.partition ?? null, value, key, Date.now(), recordHeaders);
        if (wait !== undefined) await wait;
        if (bar !== undefined && (producer.sent & 1023) === 0)
          bar.update(producer.bytes + producer.sent, { records: producer.sent });
      }
      await producer.finish();
    } finally {
      if (bar !== undefined) {
        bar.update(total ?? 0, { records: producer.sent });
        bar.stop();
      }
      await producer.close();
    }
    const { sent, bytes } = producer;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const rate = seconds > 0 ? Math.round(sent / seconds) : sent;
    err(
      cmd,
      `produced ${sent} records (${bytes} bytes) to ${topic} in ${seconds.toFixed(2)} s (${rate} records/s)\n`,
    );
  });
}
