/**
 * The contract each schema format (Avro, JSON Schema, Protobuf) implements: parse and
 * validate schema text against its resolved references, give its canonical text (the
 * form that is stored, so the same schema registers once), and list the issues that
 * stop a reader schema from reading data written with a writer schema.
 *
 * Pure functions over strings: no I/O, no state.
 */
import type { SchemaType } from '../types.js';

/** A referenced schema, fetched by the registry, with its own references already expanded. */
export interface ResolvedReference {
  name: string;
  subject: string;
  version: number;
  schemaType: SchemaType;
  schema: string;
}

export interface CompatibilityIssue {
  errorType: string;
  path: string;
  description: string;
  additionalInfo?: string;
}

/** Who is who in a check: BACKWARD reads old data with the new schema, FORWARD the reverse. */
export interface CheckLabels {
  reader: 'new' | 'old';
  writer: 'new' | 'old';
}

export interface ParsedSchema {
  readonly type: SchemaType;
  /** The stored text: canonical form; with `normalize`, also the format's normalizations. */
  canonical(normalize: boolean): string;
}

export interface SchemaProvider<P extends ParsedSchema = ParsedSchema> {
  readonly type: SchemaType;
  /** Parses and validates; throws registryError(42201) with the parser's reason. `deps` come dependencies first. */
  parse(schema: string, deps: readonly ResolvedReference[]): P;
  /** Issues that prevent `reader` from reading data written with `writer`; empty = compatible. */
  check(reader: P, writer: P, labels: CheckLabels): CompatibilityIssue[];
}

/** Confluent's message form: {errorType:'…', description:'…', additionalInfo:'…'}. */
export function formatIssue(issue: CompatibilityIssue): string {
  const info = issue.additionalInfo === undefined ? '' : `, additionalInfo:'${issue.additionalInfo}'`;
  return `{errorType:'${issue.errorType}', description:'${issue.description}'${info}}`;
}

/** JSON with object keys sorted recursively and no whitespace. */
export function sortedJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}
