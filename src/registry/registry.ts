/**
 * SchemaRegistry: Confluent Schema Registry's semantics without the HTTP: subjects,
 * versions, global ids, references, soft/hard deletes, compatibility, config and mode.
 *
 * Durability: every change is a list of `_schemas` records appended to RegistryStorage;
 * the call resolves (and the REST layer answers) only after the append is durable, and
 * only then is the record applied to the in-memory RegistryState. A failed append leaves
 * the state untouched and puts the registry in a failed state (50001 on every later
 * write) because the storage may hold a prefix of the batch; a restart replays the log
 * and recovers exactly what is durable. A storage shared with other processes (the
 * `_schemas` topic: storage.catchUp) is caught up before every write instead, so the
 * plan sees every durable record, and a failed append needs no restart.
 * Concurrency: writes run one at a time on an async chain (id and version allocation
 * need it); reads are synchronous over the state and never see a non-durable change.
 * Validation happens before anything is written: invalid input stores nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, isSluiceError } from '../common/index.js';
import { compatibilityMessages, type PreviousVersion } from './compatibility.js';
import { RegistryErrorCodes as E, registryError } from './errors.js';
import { avroProvider } from './formats/avro.js';
import { jsonProvider } from './formats/json.js';
import { protobufProvider } from './formats/protobuf.js';
import type { ParsedSchema, ResolvedReference, SchemaProvider } from './formats/provider.js';
import { RegistryState } from './state.js';
import { isNotStored, type RegistryStorage } from './storage.js';
import {
  COMPATIBILITY_LEVELS,
  type CompatibilityLevel,
  type ConfigValue,
  DEFAULT_COMPATIBILITY,
  DEFAULT_MODE,
  MODES,
  type Mode,
  type RegistryRecord,
  SCHEMA_TYPES,
  type SchemaInput,
  type SchemaReference,
  type SchemaType,
  type SchemaValue,
  schemaTypeOf,
} from './types.js';

const log = createLogger('registry');

const PROVIDERS: Record<SchemaType, SchemaProvider> = {
  AVRO: avroProvider as SchemaProvider,
  JSON: jsonProvider as SchemaProvider,
  PROTOBUF: protobufProvider as SchemaProvider,
};

export function providerFor(type: SchemaType): SchemaProvider {
  return PROVIDERS[type];
}

/** A version as the REST API returns it (schemaType omitted for AVRO, references when any). */
export interface SubjectVersion {
  subject: string;
  version: number;
  id: number;
  schemaType?: SchemaType;
  references?: SchemaReference[];
  schema: string;
}

export interface SchemaById {
  schema: string;
  schemaType?: SchemaType;
  references?: SchemaReference[];
}

export interface RegisterRequest extends SchemaInput {
  /** Only honoured in IMPORT mode (or when equal to the id the schema gets anyway). */
  id?: number;
  version?: number;
}

const MAX_ID = 2 ** 31 - 1;
/** A write that was not stored (e.g. fenced by another registry) is re-planned and tried this many times in all. */
const MAX_FENCED_ATTEMPTS = 10;

export class SchemaRegistry {
  private readonly state = new RegistryState();
  private chain: Promise<unknown> = Promise.resolve();
  private failure: Error | undefined;
  private closed = false;
  private readonly parsedById = new Map<number, ParsedSchema>();

  private constructor(
    readonly storage: RegistryStorage,
    private readonly defaultCompatibility: CompatibilityLevel,
  ) {}

  /** Opens the storage and replays it; the registry is ready when this resolves. */
  static async open(
    storage: RegistryStorage,
    options: { defaultCompatibility?: CompatibilityLevel } = {},
  ): Promise<SchemaRegistry> {
    const registry = new SchemaRegistry(storage, options.defaultCompatibility ?? DEFAULT_COMPATIBILITY);
    const records = await storage.open();
    for (const r of records) registry.state.apply(r);
    log.info(
      { storage: storage.description, records: records.length, maxId: registry.state.maxId },
      'registry loaded',
    );
    return registry;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain.catch(() => undefined);
    await this.storage.close();
  }

  // ---- reads -----------------------------------------------------------------------

  subjects(opts: { deleted?: boolean; prefix?: string } = {}): string[] {
    const out: string[] = [];
    for (const subject of this.state.subjects.keys()) {
      if (opts.prefix !== undefined && !subject.startsWith(opts.prefix)) continue;
      if (this.state.versionsOf(subject, opts.deleted === true).length > 0) out.push(subject);
    }
    return out.sort();
  }

  versions(subject: string, opts: { deleted?: boolean } = {}): number[] {
    const versions = this.state.versionsOf(subject, opts.deleted === true);
    if (versions.length === 0) throw subjectNotFound(subject);
    return versions.map((v) => v.version);
  }

  getVersion(subject: string, version: string | number, opts: { deleted?: boolean } = {}): SubjectVersion {
    return toSubjectVersion(this.findVersion(subject, version, opts.deleted === true));
  }

  getSchemaById(id: number): SchemaById {
    const s = this.state.schemasById.get(id);
    if (s === undefined) throw registryError(E.SCHEMA_NOT_FOUND, `Schema ${id} not found`);
    return {
      schema: s.schema,
      ...(s.schemaType === 'AVRO' ? {} : { schemaType: s.schemaType }),
      ...(s.references.length > 0 ? { references: s.references } : {}),
    };
  }

  /** GET /schemas: every version of every subject (optionally only the latest of each). */
  listSchemas(opts: { deleted?: boolean; prefix?: string; latestOnly?: boolean } = {}): SubjectVersion[] {
    const out: SubjectVersion[] = [];
    for (const subject of this.subjects({ deleted: opts.deleted, prefix: opts.prefix })) {
      const versions = this.state.versionsOf(subject, opts.deleted === true);
      const picked = opts.latestOnly === true ? versions.slice(-1) : versions;
      out.push(...picked.map(toSubjectVersion));
    }
    return out;
  }

  subjectVersionsForId(id: number, opts: { deleted?: boolean } = {}): { subject: string; version: number }[] {
    if (!this.state.schemasById.has(id)) throw registryError(E.SCHEMA_NOT_FOUND, `Schema ${id} not found`);
    const out: { subject: string; version: number }[] = [];
    for (const subject of [...this.state.subjects.keys()].sort()) {
      for (const v of this.state.versionsOf(subject, opts.deleted === true)) {
        if (v.id === id) out.push({ subject, version: v.version });
      }
    }
    return out;
  }

  subjectsForId(id: number, opts: { deleted?: boolean } = {}): string[] {
    return [...new Set(this.subjectVersionsForId(id, opts).map((sv) => sv.subject))];
  }

  referencedBy(subject: string, version: string | number): number[] {
    const v = this.findVersion(subject, version, true);
    return this.state.referencedBy(subject, v.version);
  }

  /** POST /subjects/{s}: which version of `subject` holds this schema. */
  lookup(
    subject: string,
    input: SchemaInput,
    opts: { normalize?: boolean; deleted?: boolean } = {},
  ): SubjectVersion {
    const all = this.state.versionsOf(subject, opts.deleted === true);
    if (all.length === 0) throw subjectNotFound(subject);
    const { type, parsed, references } = this.parseInput(input);
    const forms = new Set([parsed.canonical(false), parsed.canonical(true), input.schema]);
    const refsKey = JSON.stringify(references);
    const hit = [...all]
      .reverse()
      .find(
        (v) =>
          schemaTypeOf(v) === type && forms.has(v.schema) && JSON.stringify(v.references ?? []) === refsKey,
      );
    if (hit === undefined) throw registryError(E.SCHEMA_NOT_FOUND, 'Schema not found');
    return toSubjectVersion(hit);
  }

  // ---- config and mode --------------------------------------------------------------

  getConfig(subject: string | null, opts: { defaultToGlobal?: boolean } = {}): ConfigValue {
    if (subject !== null) {
      const own = this.state.configs.get(subject);
      if (own !== undefined) return { ...own };
      if (opts.defaultToGlobal !== true) {
        throw registryError(
          E.SUBJECT_LEVEL_COMPATIBILITY_NOT_CONFIGURED,
          `Subject '${subject}' does not have subject-level compatibility configured`,
        );
      }
    }
    return { ...(this.state.configs.get(null) ?? { compatibilityLevel: this.defaultCompatibility }) };
  }

  async setConfig(
    subject: string | null,
    body: { compatibility?: unknown; compatibilityLevel?: unknown; normalize?: unknown },
  ): Promise<{ compatibility: CompatibilityLevel; normalize?: boolean }> {
    const raw = body.compatibility ?? body.compatibilityLevel;
    const level = typeof raw === 'string' ? raw.toUpperCase() : undefined;
    if (level === undefined || !(COMPATIBILITY_LEVELS as readonly string[]).includes(level)) {
      throw registryError(
        E.INVALID_COMPATIBILITY_LEVEL,
        `Invalid compatibility level. Valid values are ${COMPATIBILITY_LEVELS.join(', ')}`,
      );
    }
    if (body.normalize !== undefined && typeof body.normalize !== 'boolean') {
      throw registryError(E.BAD_REQUEST, 'normalize must be a boolean');
    }
    const value: ConfigValue = {
      compatibilityLevel: level as CompatibilityLevel,
      ...(body.normalize === undefined ? {} : { normalize: body.normalize as boolean }),
    };
    await this.write(() => [{ key: { keytype: 'CONFIG', subject, magic: 0 }, value }]);
    return {
      compatibility: value.compatibilityLevel,
      ...(value.normalize === undefined ? {} : { normalize: value.normalize }),
    };
  }

  async deleteConfig(subject: string | null): Promise<ConfigValue> {
    const previous = this.getConfig(subject);
    if (this.state.configs.has(subject)) {
      await this.write(() => [{ key: { keytype: 'CONFIG', subject, magic: 0 }, value: null }]);
    }
    return previous;
  }

  getMode(subject: string | null, opts: { defaultToGlobal?: boolean } = {}): { mode: Mode } {
    if (subject !== null) {
      const own = this.state.modeOf(subject);
      if (own !== undefined) return { mode: own };
      if (opts.defaultToGlobal !== true) {
        throw registryError(
          E.SUBJECT_LEVEL_MODE_NOT_CONFIGURED,
          `Subject '${subject}' does not have subject-level mode configured`,
        );
      }
    }
    return { mode: this.state.modeOf(null) ?? DEFAULT_MODE };
  }

  async setMode(
    subject: string | null,
    body: { mode?: unknown },
    opts: { force?: boolean } = {},
  ): Promise<{ mode: Mode }> {
    const mode = typeof body.mode === 'string' ? body.mode.toUpperCase() : undefined;
    if (mode === undefined || !(MODES as readonly string[]).includes(mode)) {
      throw registryError(E.INVALID_MODE, `Invalid mode. Valid values are ${MODES.join(', ')}`);
    }
    return this.write(() => {
      if (mode === 'IMPORT' && opts.force !== true) {
        const nonEmpty =
          subject === null ? this.subjects().length > 0 : this.state.versionsOf(subject, false).length > 0;
        if (nonEmpty) {
          throw registryError(
            E.OPERATION_NOT_PERMITTED,
            `Cannot import since found existing subjects${subject === null ? '' : ` ('${subject}')`}; use force=true to import anyway`,
          );
        }
      }
      return [{ key: { keytype: 'MODE', subject, magic: 0 }, value: { mode: mode as Mode } }];
    }).then(() => ({ mode: mode as Mode }));
  }

  async deleteMode(subject: string): Promise<{ mode: Mode }> {
    const previous = this.getMode(subject);
    await this.write(() => [{ key: { keytype: 'MODE', subject, magic: 0 }, value: null }]);
    return previous;
  }

  // ---- registration and compatibility ---------------------------------------------

  async register(
    subject: string,
    req: RegisterRequest,
    opts: { normalize?: boolean } = {},
  ): Promise<{ id: number }> {
    validateSubject(subject);
    return this.write(() => {
      const mode = this.effectiveMode(subject);
      if (mode === 'READONLY' || mode === 'READONLY_OVERRIDE') {
        throw registryError(E.OPERATION_NOT_PERMITTED, `Subject ${subject} is in read-only mode`);
      }
      const { type, parsed, references } = this.parseInput(req);
      const normalize = opts.normalize === true || this.normalizeFor(subject);
      const text = parsed.canonical(normalize);
      const live = this.state.versionsOf(subject, false);
      const existing = live.find(
        (v) =>
          schemaTypeOf(v) === type &&
          v.schema === text &&
          JSON.stringify(v.references ?? []) === JSON.stringify(references),
      );
      if (existing !== undefined && (req.id === undefined || req.id === existing.id)) {
        return { records: [], result: { id: existing.id } };
      }
      const knownId = this.state.idOf(type, text, references);
      let id: number;
      if (req.id !== undefined) {
        if (!Number.isInteger(req.id) || req.id < 1 || req.id > MAX_ID) {
          throw registryError(E.INVALID_SCHEMA, `Invalid schema id ${req.id}`);
        }
        if (mode !== 'IMPORT' && req.id !== knownId) {
          throw registryError(
            E.OPERATION_NOT_PERMITTED,
            `Registering with an explicit id is only permitted in IMPORT mode (subject ${subject} is in ${mode} mode)`,
          );
        }
        const holder = this.state.schemasById.get(req.id);
        if (holder !== undefined && !(holder.schemaType === type && holder.schema === text)) {
          throw registryError(
            E.OPERATION_NOT_PERMITTED,
            `Overwrite new schema with id ${req.id} is not permitted.`,
          );
        }
        id = req.id;
      } else {
        id = knownId ?? this.state.maxId + 1;
      }
      const next = this.state.nextVersion(subject);
      let version = next;
      if (req.version !== undefined) {
        if (!Number.isInteger(req.version) || req.version < 1 || req.version > MAX_ID) {
          throw registryError(
            E.INVALID_VERSION,
            `The specified version '${req.version}' is not a valid version id.`,
          );
        }
        if (mode === 'IMPORT') {
          const taken = this.state.subjects.get(subject)?.get(req.version);
          if (taken !== undefined) {
            throw registryError(
              E.OPERATION_NOT_PERMITTED,
              `Overwrite of version ${req.version} of subject ${subject} is not permitted.`,
            );
          }
        } else if (req.version !== next) {
          throw registryError(
            E.INVALID_VERSION,
            `The specified version '${req.version}' is not valid: the next version of subject ${subject} is ${next}`,
          );
        }
        version = req.version;
      }
      if (mode !== 'IMPORT') {
        const messages = this.messagesAgainst(subject, type, parsed, live);
        if (messages.length > 0) {
          throw registryError(
            E.INCOMPATIBLE_SCHEMA,
            `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${messages.join(', ')}]`,
          );
        }
      }
      const value: SchemaValue = {
        subject,
        version,
        id,
        ...(type === 'AVRO' ? {} : { schemaType: type }),
        ...(references.length > 0 ? { references } : {}),
        schema: text,
        deleted: false,
      };
      return { records: [{ key: { keytype: 'SCHEMA', subject, version, magic: 1 }, value }], result: { id } };
    });
  }

  /** POST /compatibility/subjects/{s}/versions[/{v}]. */
  checkCompatibility(
    subject: string,
    version: string | number | undefined,
    input: SchemaInput,
    opts: { verbose?: boolean } = {},
  ): { is_compatible: boolean; messages?: string[] } {
    const { type, parsed } = this.parseInput(input);
    let against: SchemaValue[];
    if (version === undefined || version === 'latest' || version === -1 || version === '-1') {
      against = this.state.versionsOf(subject, false);
      if (against.length === 0 && version !== undefined) throw subjectNotFound(subject);
    } else {
      against = [this.findVersion(subject, version, false)];
    }
    const messages = this.messagesAgainst(subject, type, parsed, against);
    return { is_compatible: messages.length === 0, ...(opts.verbose === true ? { messages } : {}) };
  }

  // ---- deletes ----------------------------------------------------------------------

  async deleteSubject(subject: string, opts: { permanent?: boolean } = {}): Promise<number[]> {
    return this.write(() => {
      this.assertWritable(subject);
      const all = this.state.versionsOf(subject, true);
      if (all.length === 0) throw subjectNotFound(subject);
      const live = all.filter((v) => !v.deleted);
      if (opts.permanent === true) {
        if (live.length > 0) {
          throw registryError(
            E.SUBJECT_NOT_SOFT_DELETED,
            `Subject '${subject}' was not deleted first before being permanently deleted`,
          );
        }
        this.assertNotReferenced(subject, all);
        const records: RegistryRecord[] = [
          this.idHighWaterMark(),
          ...all.map(
            (v): RegistryRecord => ({
              key: { keytype: 'SCHEMA', subject, version: v.version, magic: 1 },
              value: null,
            }),
          ),
        ];
        if (this.state.configs.has(subject))
          records.push({ key: { keytype: 'CONFIG', subject, magic: 0 }, value: null });
        if (this.state.modes.has(subject))
          records.push({ key: { keytype: 'MODE', subject, magic: 0 }, value: null });
        return { records, result: all.map((v) => v.version) };
      }
      if (live.length === 0) {
        throw registryError(
          E.SUBJECT_SOFT_DELETED,
          `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently`,
        );
      }
      this.assertNotReferenced(subject, live);
      const latest = live[live.length - 1].version;
      const records: RegistryRecord[] = [
        { key: { keytype: 'DELETE_SUBJECT', subject, magic: 0 }, value: { subject, version: latest } },
        ...live.map(
          (v): RegistryRecord => ({
            key: { keytype: 'SCHEMA', subject, version: v.version, magic: 1 },
            value: { ...v, deleted: true },
          }),
        ),
      ];
      return { records, result: live.map((v) => v.version) };
    });
  }

  async deleteVersion(
    subject: string,
    version: string | number,
    opts: { permanent?: boolean } = {},
  ): Promise<number> {
    return this.write(() => {
      this.assertWritable(subject);
      const permanent = opts.permanent === true;
      // An explicit version may be soft-deleted already (40406); 'latest' means the latest live one.
      const v = this.findVersion(subject, version, permanent || parseVersion(version) !== -1);
      if (!permanent && v.deleted) {
        throw registryError(
          E.SCHEMA_VERSION_SOFT_DELETED,
          `Subject '${subject}' Version ${v.version} was soft deleted. Set permanent=true to delete permanently`,
        );
      }
      if (permanent) {
        if (!v.deleted) {
          throw registryError(
            E.SCHEMA_VERSION_NOT_SOFT_DELETED,
            `Subject '${subject}' Version ${v.version} was not deleted first before being permanently deleted`,
          );
        }
        this.assertNotReferenced(subject, [v]);
        return {
          records: [
            this.idHighWaterMark(),
            { key: { keytype: 'SCHEMA', subject, version: v.version, magic: 1 }, value: null },
          ],
          result: v.version,
        };
      }
      this.assertNotReferenced(subject, [v]);
      return {
        records: [
          {
            key: { keytype: 'SCHEMA', subject, version: v.version, magic: 1 },
            value: { ...v, deleted: true },
          },
        ],
        result: v.version,
      };
    });
  }

  // ---- internals ----------------------------------------------------------------------

  /**
   * Runs `plan` after every earlier write, appends its records durably, then applies
   * them. `plan` validates against the current state and throws to store nothing.
   */
  private write<T>(plan: () => RegistryRecord[] | { records: RegistryRecord[]; result: T }): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.closed) throw registryError(E.STORE_ERROR, 'The schema registry is closed');
      if (this.failure !== undefined) {
        throw registryError(
          E.STORE_ERROR,
          `Store is unavailable after a failed write: ${this.failure.message}`,
        );
      }
      const shared = this.storage.catchUp !== undefined;
      for (let attempt = 1; ; attempt++) {
        if (shared) await this.catchUp();
        const planned = plan();
        const { records, result } = Array.isArray(planned)
          ? { records: planned, result: undefined as T }
          : planned;
        if (records.length === 0) return result;
        try {
          await this.storage.append(records);
        } catch (err) {
          if (shared) {
            // Nothing applied; the next catchUp returns whatever of it became durable.
            if (isNotStored(err) && attempt < MAX_FENCED_ATTEMPTS) {
              log.warn({ attempt, err }, 'schema log append not stored; re-reading and retrying');
              // Two registries writing at once fence each other in turn; a random pause lets one
              // of them finish a whole write.
              await sleep(Math.random() * Math.min(500, 10 * 2 ** attempt));
              continue;
            }
            throw registryError(
              E.STORE_ERROR,
              `Error while writing to the schema store: ${(err as Error).message}`,
              err,
            );
          }
          this.failure = err instanceof Error ? err : new Error(String(err));
          log.error({ err }, 'schema store append failed; refusing further writes until restart');
          throw registryError(
            E.STORE_ERROR,
            `Error while writing to the schema store: ${this.failure.message}`,
            err,
          );
        }
        for (const r of records) this.state.apply(r);
        return result;
      }
    };
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Applies records other writers (or an append of ours with an unknown outcome) made durable. */
  private async catchUp(): Promise<void> {
    let records: RegistryRecord[];
    try {
      records = (await this.storage.catchUp?.()) ?? [];
    } catch (err) {
      throw registryError(
        E.STORE_ERROR,
        `Error while reading the schema store: ${(err as Error).message}`,
        err,
      );
    }
    for (const r of records) this.state.apply(r);
    if (records.length > 0)
      log.info({ records: records.length }, 'applied schema log records written elsewhere');
  }

  /**
   * The id high-water mark record that goes first in every hard delete: once compaction drops
   * the tombstoned SCHEMA records, it is what keeps their ids from being handed out again.
   */
  private idHighWaterMark(): RegistryRecord {
    return { key: { keytype: 'NOOP', magic: 0 }, value: { maxId: this.state.maxId } };
  }

  private assertWritable(subject: string): void {
    const mode = this.effectiveMode(subject);
    if (mode === 'READONLY' || mode === 'READONLY_OVERRIDE') {
      throw registryError(E.OPERATION_NOT_PERMITTED, `Subject ${subject} is in read-only mode`);
    }
  }

  private assertNotReferenced(subject: string, versions: readonly SchemaValue[]): void {
    for (const v of versions) {
      const by = this.state.referencedBy(subject, v.version);
      if (by.length > 0) {
        throw registryError(
          E.REFERENCE_EXISTS,
          `One or more references exist to the schema {subject=${subject}, version=${v.version}} (referenced by ids ${by.join(', ')})`,
        );
      }
    }
  }

  private effectiveMode(subject: string): Mode {
    return this.state.modeOf(subject) ?? this.state.modeOf(null) ?? DEFAULT_MODE;
  }

  private levelFor(subject: string): CompatibilityLevel {
    return (
      this.state.compatibilityOf(subject) ?? this.state.compatibilityOf(null) ?? this.defaultCompatibility
    );
  }

  private normalizeFor(subject: string): boolean {
    return (this.state.configs.get(subject) ?? this.state.configs.get(null))?.normalize === true;
  }

  private messagesAgainst(
    subject: string,
    type: SchemaType,
    parsed: ParsedSchema,
    previous: readonly SchemaValue[],
  ): string[] {
    const level = this.levelFor(subject);
    if (level === 'NONE' || previous.length === 0) return [];
    const sameType = previous.filter((v) => schemaTypeOf(v) === type);
    if (sameType.length < previous.length) {
      const other = previous.find((v) => schemaTypeOf(v) !== type) as SchemaValue;
      return [
        `{errorType:'SCHEMA_TYPE_CHANGED', description:'The new schema is ${type} but version ${other.version} is ${schemaTypeOf(other)}'}`,
        `{compatibility: '${level}'}`,
      ];
    }
    const prev: PreviousVersion<ParsedSchema>[] = previous.map((v) => ({
      version: v.version,
      schema: v.schema,
      parsed: this.parsedFor(v),
    }));
    return compatibilityMessages(PROVIDERS[type], level, parsed, prev);
  }

  private parsedFor(v: SchemaValue): ParsedSchema {
    let p = this.parsedById.get(v.id);
    if (p === undefined) {
      const type = schemaTypeOf(v);
      p = PROVIDERS[type].parse(v.schema, this.resolveReferences(v.references ?? [], new Set()));
      this.parsedById.set(v.id, p);
    }
    return p;
  }

  private parseInput(input: SchemaInput): {
    type: SchemaType;
    parsed: ParsedSchema;
    references: SchemaReference[];
  } {
    if (input === null || typeof input !== 'object')
      throw registryError(E.INVALID_SCHEMA, 'Invalid schema: empty request body');
    if (typeof input.schema !== 'string' || input.schema.trim() === '') {
      throw registryError(E.INVALID_SCHEMA, 'Invalid schema: "schema" must be a non-empty string');
    }
    const rawType = (input.schemaType ?? 'AVRO') as string;
    const type = typeof rawType === 'string' ? rawType.toUpperCase() : rawType;
    if (!(SCHEMA_TYPES as readonly string[]).includes(type)) {
      throw registryError(
        E.INVALID_SCHEMA,
        `Invalid schema type ${String(rawType)}; valid types are ${SCHEMA_TYPES.join(', ')}`,
      );
    }
    const references = validateReferences(input.references, (s) => this.state.versionsOf(s, true));
    const deps = this.resolveReferences(references, new Set());
    try {
      return {
        type: type as SchemaType,
        parsed: PROVIDERS[type as SchemaType].parse(input.schema, deps),
        references,
      };
    } catch (err) {
      if (isSluiceError(err)) throw err;
      throw registryError(E.INVALID_SCHEMA, `Invalid schema: ${(err as Error).message}`, err);
    }
  }

  /** All transitive references, dependencies first; unknown ones are 42201 (nothing stored). */
  private resolveReferences(refs: readonly SchemaReference[], visiting: Set<string>): ResolvedReference[] {
    const out: ResolvedReference[] = [];
    const seen = new Set<string>();
    const visit = (ref: SchemaReference) => {
      const key = `${ref.subject}\u0000${ref.version}`;
      if (seen.has(key)) return;
      if (visiting.has(key))
        throw registryError(
          E.INVALID_SCHEMA,
          `Invalid schema: circular reference to ${ref.subject} version ${ref.version}`,
        );
      visiting.add(key);
      const v = this.state.subjects.get(ref.subject)?.get(ref.version);
      if (v === undefined) {
        throw registryError(
          E.INVALID_SCHEMA,
          `Invalid schema: reference '${ref.name}' to subject '${ref.subject}' version ${ref.version} not found`,
        );
      }
      for (const inner of v.references ?? []) visit(inner);
      visiting.delete(key);
      seen.add(key);
      out.push({
        name: ref.name,
        subject: ref.subject,
        version: ref.version,
        schemaType: schemaTypeOf(v),
        schema: v.schema,
      });
    };
    for (const r of refs) visit(r);
    return out;
  }

  private findVersion(subject: string, version: string | number, includeDeleted: boolean): SchemaValue {
    const n = parseVersion(version);
    const all = this.state.versionsOf(subject, true);
    if (all.length === 0) throw subjectNotFound(subject);
    const candidates = includeDeleted ? all : all.filter((v) => !v.deleted);
    if (n === -1) {
      const latest = candidates[candidates.length - 1];
      if (latest === undefined) throw subjectNotFound(subject);
      return latest;
    }
    const v = all.find((x) => x.version === n);
    if (v === undefined) throw registryError(E.VERSION_NOT_FOUND, `Version ${n} not found.`);
    if (v.deleted && !includeDeleted) {
      if (candidates.length === 0) throw subjectNotFound(subject);
      throw registryError(E.VERSION_NOT_FOUND, `Version ${n} not found.`);
    }
    return v;
  }
}

function toSubjectVersion(v: SchemaValue): SubjectVersion {
  const type = schemaTypeOf(v);
  return {
    subject: v.subject,
    version: v.version,
    id: v.id,
    ...(type === 'AVRO' ? {} : { schemaType: type }),
    ...((v.references ?? []).length > 0 ? { references: v.references } : {}),
    schema: v.schema,
  };
}

function subjectNotFound(subject: string): Error {
  return registryError(E.SUBJECT_NOT_FOUND, `Subject '${subject}' not found.`);
}

function validateSubject(subject: string): void {
  if (subject.length === 0 || subject.length > 255 || /[\u0000-\u001f]/.test(subject)) {
    throw registryError(E.BAD_REQUEST, `Invalid subject name '${subject}'`);
  }
}

/** 'latest' and -1 are -1; otherwise an integer in [1, 2^31-1], else 42202. */
export function parseVersion(version: string | number): number {
  if (version === 'latest' || version === -1 || version === '-1') return -1;
  const n = typeof version === 'number' ? version : /^\d+$/.test(version) ? Number(version) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_ID) {
    throw registryError(
      E.INVALID_VERSION,
      `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`,
    );
  }
  return n;
}

function validateReferences(
  refs: unknown,
  versionsOf: (subject: string) => SchemaValue[],
): SchemaReference[] {
  if (refs === undefined || refs === null) return [];
  if (!Array.isArray(refs))
    throw registryError(E.INVALID_SCHEMA, 'Invalid schema: "references" must be an array');
  return refs.map((r, i) => {
    const ref = r as Partial<SchemaReference>;
    if (typeof ref?.name !== 'string' || typeof ref.subject !== 'string' || typeof ref.version !== 'number') {
      throw registryError(
        E.INVALID_SCHEMA,
        `Invalid schema: reference ${i} needs a string "name", a string "subject" and a numeric "version"`,
      );
    }
    let version = ref.version;
    if (version === -1) {
      const live = versionsOf(ref.subject).filter((v) => !v.deleted);
      const latest = live[live.length - 1];
      if (latest === undefined) {
        throw registryError(
          E.INVALID_SCHEMA,
          `Invalid schema: reference '${ref.name}': subject '${ref.subject}' not found`,
        );
      }
      version = latest.version;
    }
    return { name: ref.name, subject: ref.subject, version };
  });
}
