/**
 * Registry vocabulary: schema types, compatibility levels, modes, and the records of
 * Confluent's `_schemas` topic, which is the registry's only persistent format.
 *
 * Record format (exactly Confluent's, JSON key and JSON value; value null = tombstone):
 *   SCHEMA         {"keytype":"SCHEMA","subject":s,"version":v,"magic":1}
 *                  → {"subject","version","id","schemaType"?,"references"?,"schema","deleted"}
 *   CONFIG         {"keytype":"CONFIG","subject":s|null,"magic":0} → {"compatibilityLevel","normalize"?}
 *   MODE           {"keytype":"MODE","subject":s|null,"magic":0} → {"mode"}
 *   DELETE_SUBJECT {"keytype":"DELETE_SUBJECT","subject":s,"magic":0} → {"subject","version"}
 *   NOOP           {"keytype":"NOOP","magic":0} → null (Confluent's read-your-writes marker),
 *                  or → {"maxId"} (Sluice: the id high-water mark, written with hard deletes)
 * `schemaType` is omitted for AVRO, as Confluent does. A compacted topic keeps the last
 * value per key, so every record is self-contained: replaying the surviving records in
 * offset order rebuilds the same state.
 */

export const SCHEMA_TYPES = ['AVRO', 'JSON', 'PROTOBUF'] as const;
export type SchemaType = (typeof SCHEMA_TYPES)[number];

export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];
export const DEFAULT_COMPATIBILITY: CompatibilityLevel = 'BACKWARD';

export const MODES = ['READWRITE', 'READONLY', 'READONLY_OVERRIDE', 'IMPORT'] as const;
export type Mode = (typeof MODES)[number];
export const DEFAULT_MODE: Mode = 'READWRITE';

export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

/** A schema as clients send and receive it. */
export interface SchemaInput {
  schema: string;
  schemaType?: SchemaType;
  references?: SchemaReference[];
}

export interface SchemaKey {
  keytype: 'SCHEMA';
  subject: string;
  version: number;
  magic: 1;
}
export interface ConfigKey {
  keytype: 'CONFIG';
  subject: string | null;
  magic: 0;
}
export interface ModeKey {
  keytype: 'MODE';
  subject: string | null;
  magic: 0;
}
export interface DeleteSubjectKey {
  keytype: 'DELETE_SUBJECT';
  subject: string;
  magic: 0;
}
export interface NoopKey {
  keytype: 'NOOP';
  magic: 0;
}
export type RegistryKey = SchemaKey | ConfigKey | ModeKey | DeleteSubjectKey | NoopKey;

export interface SchemaValue {
  subject: string;
  version: number;
  id: number;
  schemaType?: SchemaType;
  references?: SchemaReference[];
  schema: string;
  deleted: boolean;
}
export interface ConfigValue {
  compatibilityLevel: CompatibilityLevel;
  normalize?: boolean;
}
export interface ModeValue {
  mode: Mode;
}
/**
 * Sluice's addition: the largest id ever handed out, written (under the single NOOP key, so
 * compaction keeps the latest) with every hard delete. Compaction eventually drops a
 * tombstoned SCHEMA record; without this a hard-deleted highest id would be reused.
 */
export interface NoopValue {
  maxId: number;
}
export interface DeleteSubjectValue {
  subject: string;
  version: number;
}
export type RegistryValue = SchemaValue | ConfigValue | ModeValue | DeleteSubjectValue | NoopValue;

/** One record of the `_schemas` log. `value: null` is a tombstone. */
export interface RegistryRecord {
  key: RegistryKey;
  value: RegistryValue | null;
}

export function schemaTypeOf(value: { schemaType?: SchemaType | undefined }): SchemaType {
  return value.schemaType ?? 'AVRO';
}
