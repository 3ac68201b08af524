/**
 * What the connector asks Postgres's catalog before it streams: wal_level, the role's
 * replication right, the captured tables (columns, primary key, replica identity), the
 * types of their columns (enums, arrays, domains), and the publication (created when
 * missing, completed with missing tables). Every failure is a SluiceError that says what
 * to change: PERMISSION_DENIED, INVALID_CONFIG (wal_level, missing table, no key).
 *
 * Tables without a primary key: UPDATE/DELETE on a published table without a replica
 * identity fail *in the application*, so the connector refuses such a table unless
 * (a) it already has REPLICA IDENTITY FULL (events then carry full before-images and a
 * null key; its snapshot is not chunked by key and restarts from the table's start after a
 * crash) or REPLICA IDENTITY USING INDEX (the index columns are the key), or (b) the
 * option `noPrimaryKey: 'replica-identity-full'` lets the connector set FULL itself.
 */
import type pg from 'pg';
import { SluiceError } from '../../common/index.js';
import type { ColumnDesc } from './envelope.js';
import { wrapPgError } from './replication.js';
import type { PgTypeInfo } from './types.js';

export interface TableInfo {
  schema: string;
  table: string;
  oid: number;
  columns: ColumnDesc[];
  /** Key columns in key order (primary key, or replica identity index); empty = key-less. */
  key: string[];
  replicaIdentity: 'd' | 'n' | 'f' | 'i';
  /** format_type of each key column, for typed chunk predicates. */
  keyTypes: string[];
}

export function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

export function parseTableName(name: string): { schema: string; table: string } {
  const i = name.indexOf('.');
  if (i < 0) return { schema: 'public', table: name };
  return { schema: name.slice(0, i), table: name.slice(i + 1) };
}

export async function checkServer(c: pg.Client): Promise<{ database: string }> {
  const r = await c.query(
    `SELECT current_setting('wal_level') AS wal_level, current_database() AS db,
            (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user)
              -- managed services (RDS, Aurora) grant replication through a role instead
              OR EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = 'rds_replication'
                           AND pg_has_role(current_user, r.oid, 'MEMBER')) AS can_replicate,
            current_user AS usr`,
  );
  const row = r.rows[0] as { wal_level: string; db: string; can_replicate: boolean | string; usr: string };
  if (row.wal_level !== 'logical') {
    throw new SluiceError(
      'INVALID_CONFIG',
      `Postgres runs with wal_level=${row.wal_level}; change data capture needs wal_level=logical ` +
        `(ALTER SYSTEM SET wal_level = logical; then restart Postgres)`,
      { details: { wal_level: row.wal_level } },
    );
  }
  if (row.can_replicate !== true && row.can_replicate !== 't') {
    throw new SluiceError(
      'PERMISSION_DENIED',
      `role ${row.usr} may not use logical replication: ALTER ROLE ${quoteIdent(row.usr)} WITH REPLICATION (or connect as a role that has it)`,
      { details: { role: row.usr } },
    );
  }
  return { database: row.db };
}

export async function describeTables(
  c: pg.Client,
  names: readonly string[],
  noPrimaryKey: 'error' | 'replica-identity-full',
): Promise<TableInfo[]> {
  const out: TableInfo[] = [];
  for (const name of names) {
    const { schema, table } = parseTableName(name);
    const rel = await c.query(
      `SELECT c.oid, c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
      [schema, table],
    );
    if (rel.rows.length === 0)
      throw new SluiceError('INVALID_CONFIG', `table ${schema}.${table} does not exist`, {
        details: { table: name },
      });
    const oid = Number(rel.rows[0].oid);
    let ident = rel.rows[0].relreplident as TableInfo['replicaIdentity'];
    const cols = await c.query(
      // Generated columns are left out, as pgoutput leaves them out of its tuples.
      `SELECT a.attname, a.atttypid, a.atttypmod, format_type(a.atttypid, NULL) AS typ FROM pg_attribute a
        WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum`,
      [oid],
    );
    const keyIndex = await c.query(
      `SELECT a.attname FROM pg_index i
         JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = $1 AND (CASE WHEN $2 = 'i' THEN i.indisreplident ELSE i.indisprimary END)
        ORDER BY k.ord`,
      [oid, ident],
    );
    const key = keyIndex.rows.map((r) => r.attname as string);
    if (key.length === 0 && ident !== 'f') {
      if (noPrimaryKey === 'replica-identity-full') {
        try {
          await c.query(`ALTER TABLE ${qualified(schema, table)} REPLICA IDENTITY FULL`);
        } catch (err) {
          throw wrapPgError(err, `cannot set REPLICA IDENTITY FULL on ${schema}.${table}`);
        }
        ident = 'f';
      } else {
        throw new SluiceError(
          'INVALID_CONFIG',
          `table ${schema}.${table} has no primary key: once published, its UPDATEs and DELETEs would fail in ` +
            `Postgres. Add a primary key, or run ALTER TABLE ${qualified(schema, table)} REPLICA IDENTITY FULL ` +
            `(events then have a null key and full before-images), or pass noPrimaryKey='replica-identity-full'`,
          { details: { table: `${schema}.${table}` } },
        );
      }
    }
    const keySet = new Set(key);
    const typeOf = new Map(cols.rows.map((r) => [r.attname as string, r.typ as string]));
    out.push({
      schema,
      table,
      oid,
      replicaIdentity: ident,
      key,
      keyTypes: key.map((k) => typeOf.get(k) as string),
      columns: cols.rows.map((r) => ({
        name: r.attname as string,
        typeOid: Number(r.atttypid),
        typeMod: Number(r.atttypmod),
        isKey: keySet.has(r.attname as string),
      })),
    });
  }
  return out;
}

/** Type OIDs → info, loading unknown ones (and their element/base types) from pg_type. */
export class TypeCatalog {
  private readonly types = new Map<number, PgTypeInfo>();

  get(oid: number): PgTypeInfo | undefined {
    return this.types.get(oid);
  }

  async load(c: pg.Client, oids: Iterable<number>): Promise<void> {
    let missing = [...new Set(oids)].filter((o) => !this.types.has(o));
    while (missing.length > 0) {
      const r = await c.query(
        `SELECT t.oid, t.typname, t.typtype, t.typelem, t.typbasetype,
                (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) AS labels
           FROM pg_type t WHERE t.oid = ANY($1::oid[])`,
        [`{${missing.join(',')}}`],
      );
      const next: number[] = [];
      for (const row of r.rows) {
        const info: PgTypeInfo = {
          oid: Number(row.oid),
          name: row.typname as string,
          kind: row.typtype as string,
          elem: Number(row.typelem),
          base: Number(row.typbasetype),
          ...(row.labels === null ? {} : { enumLabels: parseTextArray(row.labels as string) }),
        };
        this.types.set(info.oid, info);
        for (const o of [info.elem, info.base]) if (o !== 0 && !this.types.has(o)) next.push(o);
      }
      for (const o of missing)
        if (!this.types.has(o)) this.types.set(o, { oid: o, name: `oid${o}`, kind: 'b', elem: 0, base: 0 });
      missing = next;
    }
  }
}

function parseTextArray(text: string): string[] {
  // labels come back as text (all type parsers are identity): "{a,b,"c d"}"
  const inner = text.slice(1, -1);
  if (inner === '') return [];
  const out: string[] = [];
  let i = 0;
  while (i < inner.length) {
    if (inner[i] === '"') {
      let v = '';
      i++;
      while (inner[i] !== '"') {
        if (inner[i] === '\\') i++;
        v += inner[i++];
      }
      out.push(v);
      i += 2;
    } else {
      const j = inner.indexOf(',', i);
      out.push(inner.slice(i, j < 0 ? inner.length : j));
      i = j < 0 ? inner.length : j + 1;
    }
  }
  return out;
}

/** Creates the publication when missing; adds captured tables it lacks. */
export async function ensurePublication(
  c: pg.Client,
  publication: string,
  tables: readonly TableInfo[],
): Promise<void> {
  const list = tables.map((t) => qualified(t.schema, t.table)).join(', ');
  try {
    const p = await c.query('SELECT puballtables FROM pg_publication WHERE pubname = $1', [publication]);
    if (p.rows.length === 0) {
      await c.query(`CREATE PUBLICATION ${quoteIdent(publication)} FOR TABLE ${list}`);
      return;
    }
    if (p.rows[0].puballtables === true || p.rows[0].puballtables === 't') return;
    const have = await c.query('SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1', [
      publication,
    ]);
    const present = new Set(have.rows.map((r) => `${r.schemaname}.${r.tablename}`));
    const missing = tables.filter((t) => !present.has(`${t.schema}.${t.table}`));
    if (missing.length > 0)
      await c.query(
        `ALTER PUBLICATION ${quoteIdent(publication)} ADD TABLE ${missing.map((t) => qualified(t.schema, t.table)).join(', ')}`,
      );
  } catch (err) {
    throw wrapPgError(err, `cannot set up publication ${publication} for ${list}`);
  }
}

export interface SlotInfo {
  plugin: string;
  database: string;
  confirmedFlush: string | null;
  active: boolean;
}

export async function findSlot(c: pg.Client, slot: string): Promise<SlotInfo | undefined> {
  const r = await c.query(
    'SELECT plugin, database, confirmed_flush_lsn, active FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  if (r.rows.length === 0) return undefined;
  const row = r.rows[0];
  return {
    plugin: row.plugin as string,
    database: row.database as string,
    confirmedFlush: row.confirmed_flush_lsn as string | null,
    active: row.active === true || row.active === 't',
  };
}
