/**
 * Schema files and registry-encoded values for the CLI: the schema type a file's extension
 * implies, reading a schema file with a clear error, and printing decoded values as JSON
 * (shared by `sluice schemas`, `sluice produce --value-schema` and `sluice consume --registry`).
 */
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { Option } from 'commander';
import { SluiceError } from '../common/index.js';
import { SCHEMA_TYPES, type SchemaType } from '../registry/index.js';

export const DEFAULT_REGISTRY_URL = 'http://127.0.0.1:8081';

/** The explicit type (any case), else from the extension: .proto → PROTOBUF, .json → JSON, else AVRO. */
export function schemaTypeOfFile(file: string, explicit: string | undefined): SchemaType {
  if (explicit !== undefined) return explicit.toUpperCase() as SchemaType;
  switch (extname(file).toLowerCase()) {
    case '.proto':
      return 'PROTOBUF';
    case '.json':
      return 'JSON';
    default:
      return 'AVRO';
  }
}

export function readSchemaFile(file: string): string {
  try {
    return readFileSync(resolve(file), 'utf8');
  } catch (err) {
    throw new SluiceError('INVALID_ARGUMENT', `cannot read schema file ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** `--<flag> avro|json|protobuf` (either case). */
export function schemaTypeOption(flag: string, description: string): Option {
  return new Option(`${flag} <type>`, description).choices(SCHEMA_TYPES.flatMap((t) => [t.toLowerCase(), t]));
}

/**
 * JSON text of a decoded value: 64-bit integers (bigint, or protobuf longs as strings) stay
 * exact, bytes print as base64.
 */
export function decodedValueJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer') {
      const data = (v as { data?: unknown }).data;
      if (Array.isArray(data)) return Buffer.from(data as number[]).toString('base64');
    }
    return v;
  });
}
