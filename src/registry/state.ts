/**
 * RegistryState: the in-memory view of the `_schemas` log. `apply(record)` is the one
 * way state changes, both on replay at start-up and after each durable append, so a
 * restarted registry is exactly the registry that crashed (minus unacknowledged writes).
 *
 * Invariants:
 *   - ids are global: one id per distinct (type, schema text, references); the same
 *     schema under two subjects shares its id.
 *   - `maxId` is the largest id ever seen in the log, including ids whose records were
 *     later tombstoned, and at least the `maxId` of the latest NOOP value (written with
 *     each hard delete, so it survives compaction of the tombstoned records): a new id is
 *     never a reused one.
 *   - versions of a subject grow from the highest surviving one (soft-deleted versions
 *     survive; after a hard delete of a whole subject it starts again at 1, as in Confluent).
 * Not thread-safe by design: the registry applies records from one async chain.
 */
import {
  type CompatibilityLevel,
  type ConfigKey,
  type ConfigValue,
  type DeleteSubjectValue,
  type Mode,
  type ModeKey,
  type ModeValue,
  type NoopValue,
  type RegistryRecord,
  type SchemaReference,
  type SchemaType,
  type SchemaValue,
  schemaTypeOf,
} from './types.js';

export interface StoredSchema {
  id: number;
  schemaType: SchemaType;
  schema: string;
  references: SchemaReference[];
}

export function contentKey(type: SchemaType, schema: string, references: readonly SchemaReference[]): string {
  const refs = references.map((r) => `${r.name}\u0001${r.subject}\u0001${r.version}`).join('\u0002');
  return `${type}\u0000${schema}\u0000${refs}`;
}

export class RegistryState {
  /** subject → version → record value */
  readonly subjects = new Map<string, Map<number, SchemaValue>>();
  /** id → number of live SCHEMA records using it (soft-deleted ones count: they still resolve) */
  private readonly idRefCount = new Map<number, number>();
  readonly schemasById = new Map<number, StoredSchema>();
  private readonly idByContent = new Map<string, number>();
  readonly configs = new Map<string | null, ConfigValue>();
  readonly modes = new Map<string | null, ModeValue>();
  maxId = 0;

  apply(record: RegistryRecord): void {
    const key = record.key;
    switch (key.keytype) {
      case 'SCHEMA':
        if (record.value === null) this.removeVersion(key.subject, key.version);
        else this.putVersion(record.value as SchemaValue);
        return;
      case 'CONFIG':
        this.applyMap(this.configs, key, record.value as ConfigValue | null);
        return;
      case 'MODE':
        this.applyMap(this.modes, key, record.value as ModeValue | null);
        return;
      case 'DELETE_SUBJECT': {
        const v = record.value as DeleteSubjectValue | null;
        if (v === null) return;
        const versions = this.subjects.get(key.subject);
        if (versions === undefined) return;
        for (const [n, sv] of versions)
          if (n <= v.version && !sv.deleted) versions.set(n, { ...sv, deleted: true });
        return;
      }
      case 'NOOP': {
        const maxId = (record.value as NoopValue | null)?.maxId;
        if (typeof maxId === 'number' && Number.isInteger(maxId)) this.maxId = Math.max(this.maxId, maxId);
        return;
      }
      default:
        return; // keytypes from newer registries carry no state we use
    }
  }

  private applyMap<V>(map: Map<string | null, V>, key: ConfigKey | ModeKey, value: V | null): void {
    const subject = key.subject ?? null;
    if (value === null) map.delete(subject);
    else map.set(subject, value);
  }

  private putVersion(value: SchemaValue): void {
    let versions = this.subjects.get(value.subject);
    if (versions === undefined) {
      versions = new Map();
      this.subjects.set(value.subject, versions);
    }
    const previous = versions.get(value.version);
    if (previous !== undefined) this.release(previous.id);
    const stored: SchemaValue = { ...value, references: value.references ?? [] };
    versions.set(value.version, stored);
    this.maxId = Math.max(this.maxId, value.id);
    this.idRefCount.set(value.id, (this.idRefCount.get(value.id) ?? 0) + 1);
    if (!this.schemasById.has(value.id)) {
      const type = schemaTypeOf(value);
      const refs = value.references ?? [];
      this.schemasById.set(value.id, {
        id: value.id,
        schemaType: type,
        schema: value.schema,
        references: refs,
      });
      this.idByContent.set(contentKey(type, value.schema, refs), value.id);
    }
  }

  private removeVersion(subject: string, version: number): void {
    const versions = this.subjects.get(subject);
    const previous = versions?.get(version);
    if (versions === undefined || previous === undefined) return;
    versions.delete(version);
    if (versions.size === 0) this.subjects.delete(subject);
    this.release(previous.id);
  }

  private release(id: number): void {
    const n = (this.idRefCount.get(id) ?? 1) - 1;
    if (n > 0) {
      this.idRefCount.set(id, n);
      return;
    }
    this.idRefCount.delete(id);
    const s = this.schemasById.get(id);
    if (s !== undefined) {
      this.schemasById.delete(id);
      this.idByContent.delete(contentKey(s.schemaType, s.schema, s.references));
    }
  }

  idOf(type: SchemaType, schema: string, references: readonly SchemaReference[]): number | undefined {
    return this.idByContent.get(contentKey(type, schema, references));
  }

  /** Versions of a subject in ascending order; soft-deleted ones only if asked. */
  versionsOf(subject: string, includeDeleted: boolean): SchemaValue[] {
    const versions = this.subjects.get(subject);
    if (versions === undefined) return [];
    return [...versions.values()]
      .filter((v) => includeDeleted || !v.deleted)
      .sort((a, b) => a.version - b.version);
  }

  /** One past the highest surviving version (soft-deleted ones count), as Confluent numbers them. */
  nextVersion(subject: string): number {
    let max = 0;
    for (const v of this.subjects.get(subject)?.keys() ?? []) max = Math.max(max, v);
    return max + 1;
  }

  compatibilityOf(subject: string | null): CompatibilityLevel | undefined {
    return this.configs.get(subject)?.compatibilityLevel;
  }

  modeOf(subject: string | null): Mode | undefined {
    return this.modes.get(subject)?.mode;
  }

  /** Live (not hard-deleted) versions that reference `subject`/`version`, as their ids. */
  referencedBy(subject: string, version: number): number[] {
    const ids = new Set<number>();
    for (const versions of this.subjects.values()) {
      for (const v of versions.values()) {
        if (v.deleted) continue;
        if ((v.references ?? []).some((r) => r.subject === subject && r.version === version)) ids.add(v.id);
      }
    }
    return [...ids].sort((a, b) => a - b);
  }
}
