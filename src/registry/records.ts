/**
 * Bytes of `_schemas` records, as Confluent writes them: key and value are UTF-8 JSON;
 * a null value is a tombstone. Keys are written with a fixed field order (keytype,
 * subject, version, magic) because log compaction compares key BYTES: the same logical
 * key must always serialize identically, and identically to Confluent's, so a topic
 * shared with (or migrated from) Confluent compacts correctly.
 * The `_schemas`-topic storage will produce and consume exactly these bytes.
 */
import { SluiceError } from '../common/index.js';
import type { RegistryKey, RegistryRecord, RegistryValue } from './types.js';

const KEYTYPES = new Set(['SCHEMA', 'CONFIG', 'MODE', 'DELETE_SUBJECT', 'NOOP']);

export function encodeRecordKey(key: RegistryKey): Buffer {
  const ordered: Record<string, unknown> = { keytype: key.keytype };
  if (key.keytype !== 'NOOP') ordered.subject = key.subject;
  if (key.keytype === 'SCHEMA') ordered.version = key.version;
  ordered.magic = key.magic;
  return Buffer.from(JSON.stringify(ordered), 'utf8');
}

export function encodeRecordValue(value: RegistryValue | null): Buffer | null {
  return value === null ? null : Buffer.from(JSON.stringify(value), 'utf8');
}

/**
 * Parses a record read back from the topic. Keytypes this registry does not know (newer
 * Confluent versions write e.g. CONTEXT, DELETE_CONTEXT) come back as NOOP so replay can
 * skip them instead of failing.
 */
export function decodeRecord(key: Uint8Array, value: Uint8Array | null): RegistryRecord {
  let k: unknown;
  let v: unknown = null;
  try {
    k = JSON.parse(Buffer.from(key).toString('utf8'));
    if (value !== null) v = JSON.parse(Buffer.from(value).toString('utf8'));
  } catch (err) {
    throw new SluiceError('CORRUPT_RECORD', `_schemas record is not JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const keytype = (k as { keytype?: unknown } | null)?.keytype;
  if (typeof keytype !== 'string')
    throw new SluiceError('CORRUPT_RECORD', '_schemas record key has no keytype');
  if (!KEYTYPES.has(keytype)) return { key: { keytype: 'NOOP', magic: 0 }, value: null };
  return { key: k as RegistryKey, value: v as RegistryValue | null };
}
