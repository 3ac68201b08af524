/**
 * Shared pieces of the CDC tests (not a test file): the workload schema with every mapped
 * type, a concurrent workload that logs what it committed, decoding of JSON change
 * records, materialization of a topic, and an oracle that reads Postgres with SQL
 * expressions computing Debezium's representation independently of the connector's code.
 */
import assert from 'node:assert/strict';
import pg from 'pg';
import { bytesToBigint, type ChangeRecord } from '../../../src/connectors/index.js';

export const SCHEMA_SQL = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE SEQUENCE vers;
CREATE TABLE accounts (
  id int PRIMARY KEY, ver bigint NOT NULL, n numeric(12,2), nv numeric, ts timestamp, tstz timestamptz,
  d date, tm time, u uuid, j jsonb, js json, a int[], ta text[], b bytea, m mood, big bigint,
  f float8, r real, bo bool, iv interval, sm smallint, txt text, vc varchar(20));
CREATE TABLE orders (region text, id bigint, ver bigint NOT NULL, amount numeric(10,3), note text,
  PRIMARY KEY (region, id));
CREATE TABLE items (id uuid PRIMARY KEY, ver bigint NOT NULL, payload text, tags text[]);
ALTER TABLE items REPLICA IDENTITY FULL;
`;

export const TABLES = ['public.accounts', 'public.orders', 'public.items'];

const REGIONS = ['eu', 'us', 'ap'];

function rnd(n: number): number {
  return Math.floor(Math.random() * n);
}

function pick<T>(xs: readonly T[]): T {
  return xs[rnd(xs.length)];
}

function uuidFor(i: number): string {
  return `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
}

/** Column values of an accounts row (SQL text params), random over every mapped type. */
function accountValues(): unknown[] {
  const neg = Math.random() < 0.3 ? '-' : '';
  return [
    `${neg}${rnd(1e8)}.${String(rnd(100)).padStart(2, '0')}`,
    Math.random() < 0.2 ? null : `${neg}${rnd(1e6)}.${rnd(1e7)}`,
    `20${10 + rnd(20)}-0${1 + rnd(9)}-1${rnd(9)} 0${rnd(9)}:1${rnd(9)}:2${rnd(9)}.${rnd(1e6)}`,
    `20${10 + rnd(20)}-0${1 + rnd(9)}-1${rnd(9)} 0${rnd(9)}:1${rnd(9)}:2${rnd(9)}.${rnd(1e6)}${pick(['+00', '+05:30', '-08'])}`,
    `${1900 + rnd(200)}-0${1 + rnd(9)}-2${rnd(8)}`,
    `1${rnd(9)}:3${rnd(9)}:4${rnd(9)}.${rnd(1e6)}`,
    uuidFor(rnd(1e9)),
    JSON.stringify({ k: rnd(100), s: pick(['a', 'b c', 'ü']) }),
    JSON.stringify({ raw: [1, 2, rnd(9)] }),
    `{${rnd(100)},${Math.random() < 0.3 ? 'NULL' : rnd(100)},${-rnd(100)}}`,
    `{"x ${rnd(9)}",${pick(['y', 'NULL', '"q,r"'])}}`,
    `\\x${Buffer.from([rnd(256), rnd(256), rnd(256), 0]).toString('hex')}`,
    pick(['sad', 'ok', 'happy']),
    String(rnd(2 ** 52) - 2 ** 51),
    Math.random() * 1e6 - 5e5,
    rnd(1000) / 8,
    Math.random() < 0.5,
    `${rnd(40)} days ${rnd(24)}:${rnd(60)}:${rnd(60)}.${rnd(1e6)}`,
    rnd(60000) - 30000,
    Math.random() < 0.1 ? null : `text ${rnd(1e6)} ü`,
    `v${rnd(1e6)}`,
  ];
}

const ACCOUNT_COLS = 'n, nv, ts, tstz, d, tm, u, j, js, a, ta, b, m, big, f, r, bo, iv, sm, txt, vc';
const ACCOUNT_PARAMS = ACCOUNT_COLS.split(', ')
  .map((_, i) => `$${i + 3}`)
  .join(', ');

export async function createSchema(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(SCHEMA_SQL);
  } finally {
    await c.end();
  }
}

/** One committed change as the workload saw it (ver is globally unique per write). */
export interface CommittedOp {
  table: string;
  key: string;
  op: 'c' | 'u' | 'd';
  ver: string | null;
  /** Set on the create of a primary-key change (whose delete precedes it). */
  pkChange?: true;
}

export interface WorkloadOptions {
  workers: number;
  transactions: number;
  /** Id space of accounts/orders/items (collisions make updates, PK changes, deletes likely). */
  ids: number;
  /** Called with each committed transaction's ops. */
  onCommit?: (ops: CommittedOp[]) => void;
  /** Stop early when this returns true. */
  stop?: () => boolean;
  /** Reconnect after connection errors instead of failing (chaos test). */
  survivePostgresRestarts?: boolean;
}

const keyOf = {
  accounts: (id: number) => JSON.stringify({ id }),
  orders: (region: string, id: number) => JSON.stringify({ region, id }),
  items: (id: string) => JSON.stringify({ id }),
};

async function oneOp(c: pg.Client, ids: number): Promise<CommittedOp[]> {
  const kind = rnd(10);
  const table = pick(['accounts', 'accounts', 'orders', 'items']);
  if (table === 'accounts') {
    const id = 1 + rnd(ids);
    if (kind < 4) {
      const r = await c.query(
        `INSERT INTO accounts (id, ver, ${ACCOUNT_COLS}) VALUES ($1, nextval('vers'), ${ACCOUNT_PARAMS.replace(/\$(\d+)/g, (_, n) => `$${Number(n) - 1}`)})
           ON CONFLICT (id) DO NOTHING RETURNING id, ver`,
        [id, ...accountValues()],
      );
      return r.rows.map((x) => ({ table, key: keyOf.accounts(x.id), op: 'c' as const, ver: String(x.ver) }));
    }
    if (kind < 7) {
      const v = accountValues();
      const r = await c.query(
        `UPDATE accounts SET ver = nextval('vers'), n = $2, tstz = $3, a = $4, j = $5, txt = $6 WHERE id = $1 RETURNING id, ver`,
        [id, v[0], v[3], v[9], v[7], v[19]],
      );
      return r.rows.map((x) => ({ table, key: keyOf.accounts(x.id), op: 'u' as const, ver: String(x.ver) }));
    }
    if (kind < 8) {
      const to = 1 + rnd(ids);
      const exists = await c.query('SELECT 1 FROM accounts WHERE id = $1', [to]);
      if (exists.rows.length > 0 || to === id) return [];
      const r = await c.query(
        "UPDATE accounts SET id = $2, ver = nextval('vers') WHERE id = $1 RETURNING id, ver",
        [id, to],
      );
      return r.rows.flatMap((x) => [
        { table, key: keyOf.accounts(id), op: 'd' as const, ver: null },
        { table, key: keyOf.accounts(x.id), op: 'c' as const, ver: String(x.ver), pkChange: true as const },
      ]);
    }
    const r = await c.query('DELETE FROM accounts WHERE id = $1 RETURNING id', [id]);
    return r.rows.map((x) => ({ table, key: keyOf.accounts(x.id), op: 'd' as const, ver: null }));
  }
  if (table === 'orders') {
    const region = pick(REGIONS);
    const id = 1 + rnd(ids);
    if (kind < 5) {
      const r = await c.query(
        `INSERT INTO orders VALUES ($1, $2, nextval('vers'), $3, $4) ON CONFLICT DO NOTHING RETURNING region, id, ver`,
        [region, id, `${rnd(1e6)}.${rnd(1000)}`, `note ${rnd(100)}`],
      );
      return r.rows.map((x) => ({
        table,
        key: keyOf.orders(x.region, Number(x.id)),
        op: 'c' as const,
        ver: String(x.ver),
      }));
    }
    if (kind < 8) {
      const r = await c.query(
        `UPDATE orders SET ver = nextval('vers'), amount = amount + 1.001 WHERE region = $1 AND id = $2 RETURNING region, id, ver`,
        [region, id],
      );
      return r.rows.map((x) => ({
        table,
        key: keyOf.orders(x.region, Number(x.id)),
        op: 'u' as const,
        ver: String(x.ver),
      }));
    }
    const r = await c.query('DELETE FROM orders WHERE region = $1 AND id = $2 RETURNING region, id', [
      region,
      id,
    ]);
    return r.rows.map((x) => ({
      table,
      key: keyOf.orders(x.region, Number(x.id)),
      op: 'd' as const,
      ver: null,
    }));
  }
  const id = uuidFor(1 + rnd(ids));
  if (kind < 5) {
    const r = await c.query(
      `INSERT INTO items VALUES ($1, nextval('vers'), $2, $3) ON CONFLICT DO NOTHING RETURNING id, ver`,
      [id, `payload ${rnd(1e6)}`, `{a,b${rnd(9)}}`],
    );
    return r.rows.map((x) => ({ table, key: keyOf.items(x.id), op: 'c' as const, ver: String(x.ver) }));
  }
  if (kind < 8) {
    const r = await c.query(
      `UPDATE items SET ver = nextval('vers'), payload = $2 WHERE id = $1 RETURNING id, ver`,
      [id, `payload ${rnd(1e6)}`],
    );
    return r.rows.map((x) => ({ table, key: keyOf.items(x.id), op: 'u' as const, ver: String(x.ver) }));
  }
  const r = await c.query('DELETE FROM items WHERE id = $1 RETURNING id, ver', [id]);
  return r.rows.map((x) => ({ table, key: keyOf.items(x.id), op: 'd' as const, ver: String(x.ver) }));
}

/** Runs `workers` concurrent clients, each `transactions` transactions of 1-3 random ops. */
export async function runWorkload(url: string, o: WorkloadOptions): Promise<CommittedOp[]> {
  const all: CommittedOp[] = [];
  const connect = async (): Promise<pg.Client> => {
    for (let i = 0; ; i++) {
      const c = new pg.Client({ connectionString: url });
      c.on('error', () => {});
      try {
        await c.connect();
        return c;
      } catch (err) {
        if (i > 100 || o.stop?.() === true) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  await Promise.all(
    Array.from({ length: o.workers }, async () => {
      let c = await connect();
      try {
        for (let t = 0; t < o.transactions && !(o.stop?.() ?? false); t++) {
          const ops: CommittedOp[] = [];
          try {
            await c.query('BEGIN');
            const n = 1 + rnd(3);
            for (let i = 0; i < n; i++) ops.push(...(await oneOp(c, o.ids)));
            await c.query('COMMIT');
          } catch (err) {
            await c.query('ROLLBACK').catch(() => {});
            const code = (err as { code?: string }).code;
            // deadlocks / unique races between workers: the transaction did not commit
            if (code === '40P01' || code === '23505' || code === '40001') continue;
            if (o.stop?.() === true) break;
            if (o.survivePostgresRestarts === true) {
              // Connection lost (Postgres restarting): whether it committed is unknown, so it is
              // not logged (the final SELECT * comparison still covers it). Reconnect.
              await c.end().catch(() => {});
              await new Promise((r) => setTimeout(r, 200));
              c = await connect();
              continue;
            }
            throw err;
          }
          all.push(...ops);
          o.onCommit?.(ops);
        }
      } finally {
        await c.end().catch(() => {});
      }
    }),
  );
  return all;
}

export async function seed(url: string, ids: number): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('BEGIN'); // one commit (one WAL flush) for the whole seed
    for (let id = 1; id <= ids; id += 2) {
      await c.query(
        `INSERT INTO accounts (id, ver, ${ACCOUNT_COLS}) VALUES ($1, nextval('vers'), ${ACCOUNT_PARAMS.replace(/\$(\d+)/g, (_, n) => `$${Number(n) - 1}`)})`,
        [id, ...accountValues()],
      );
      await c.query(`INSERT INTO orders VALUES ($1, $2, nextval('vers'), $3, 'seed')`, [
        pick(REGIONS),
        id,
        `${id}.5`,
      ]);
      await c.query(`INSERT INTO items VALUES ($1, nextval('vers'), 'seed', '{s}')`, [uuidFor(id)]);
    }
    await c.query('COMMIT');
  } finally {
    await c.end();
  }
}

// ---- decoding and materializing JSON change records ------------------------------------

export interface DecodedEvent {
  topic: string;
  table: string;
  key: string | null;
  value: Record<string, unknown> | null;
  headers: Record<string, string> | undefined;
}

/** Decodes `json` format records (payload only). Key JSON is re-serialized canonically. */
export function decodeRecords(records: readonly ChangeRecord[], prefix: string): DecodedEvent[] {
  return records
    .filter((r) => r.topic.startsWith(`${prefix}.`) && r.topic !== `${prefix}.transaction`)
    .map((r) => ({
      topic: r.topic,
      table: r.topic.split('.').pop() as string,
      key: r.key === null ? null : JSON.stringify(JSON.parse(r.key.toString())),
      value: r.value === null ? null : (JSON.parse(r.value.toString()) as Record<string, unknown>),
      headers: r.headers,
    }));
}

/** Applies events in order: r/c/u put `after` under the key, d removes it; tombstones are no-ops. */
export function materialize(
  events: readonly DecodedEvent[],
): Map<string, Map<string, Record<string, unknown>>> {
  const out = new Map<string, Map<string, Record<string, unknown>>>();
  for (const e of events) {
    if (e.value === null || e.key === null) continue;
    let t = out.get(e.table);
    if (t === undefined) out.set(e.table, (t = new Map()));
    const op = e.value.op as string;
    if (op === 'd') t.delete(e.key);
    else if (op === 'r' || op === 'c' || op === 'u') t.set(e.key, e.value.after as Record<string, unknown>);
  }
  return out;
}

function decimalText(unscaledValue: bigint, scale: number): string {
  const neg = unscaledValue < 0n;
  let s = (neg ? -unscaledValue : unscaledValue).toString().padStart(scale + 1, '0');
  if (scale > 0) s = `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}`;
  return (neg ? '-' : '') + s;
}

function isoToMicros(s: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$/.exec(s);
  assert.ok(m, `not a ZonedTimestamp: ${s}`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return (BigInt(ms) * 1000n + BigInt((m[7] ?? '').padEnd(6, '0'))).toString();
}

/** An event's `after` in the oracle's representation (see ORACLE_SQL). */
export function normalizeRow(table: string, row: Record<string, unknown>): Record<string, unknown> {
  if (table === 'accounts') {
    const nv = row.nv as { scale: number; value: string } | null;
    return {
      id: row.id,
      ver: String(row.ver),
      n: row.n === null ? null : decimalText(bytesToBigint(Buffer.from(row.n as string, 'base64')), 2),
      nv: nv === null ? null : decimalText(bytesToBigint(Buffer.from(nv.value, 'base64')), nv.scale),
      ts: String(row.ts),
      tstz: isoToMicros(row.tstz as string),
      d: row.d,
      tm: String(row.tm),
      u: row.u,
      j: row.j,
      js: row.js,
      a: JSON.stringify(row.a),
      ta: JSON.stringify(row.ta),
      b: row.b,
      m: row.m,
      big: String(row.big),
      f: row.f,
      r: row.r,
      bo: row.bo,
      iv: String(row.iv),
      sm: row.sm,
      txt: row.txt,
      vc: row.vc,
    };
  }
  if (table === 'orders')
    return {
      region: row.region,
      id: row.id,
      ver: String(row.ver),
      amount:
        row.amount === null
          ? null
          : decimalText(bytesToBigint(Buffer.from(row.amount as string, 'base64')), 3),
      note: row.note,
    };
  return { id: row.id, ver: String(row.ver), payload: row.payload, tags: JSON.stringify(row.tags) };
}

/** Debezium's representation computed by Postgres itself (node-postgres default parsing). */
const ORACLE_SQL: Record<string, string> = {
  accounts: `SELECT id, ver::text AS ver, n::text AS n, nv::text AS nv,
      (extract(epoch FROM ts) * 1000000)::bigint::text AS ts, (extract(epoch FROM tstz) * 1000000)::bigint::text AS tstz,
      (d - date '1970-01-01') AS d, (extract(epoch FROM tm) * 1000000)::bigint::text AS tm, u::text AS u,
      j::text AS j, js::text AS js, to_json(a)::text AS a, to_json(ta)::text AS ta,
      replace(encode(b, 'base64'), E'\\n', '') AS b, m::text AS m, big::text AS big, f::text AS f, r::text AS r, bo,
      (extract(epoch FROM iv) * 1000000)::bigint::text AS iv, sm, txt, vc FROM accounts`,
  orders: 'SELECT region, id::int AS id, ver::text AS ver, amount::text AS amount, note FROM orders',
  items: 'SELECT id::text AS id, ver::text AS ver, payload, to_json(tags)::text AS tags FROM items',
};

export async function oracle(url: string, table: string): Promise<Map<string, Record<string, unknown>>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const rows = (await c.query(ORACLE_SQL[table])).rows as Record<string, unknown>[];
    const out = new Map<string, Record<string, unknown>>();
    for (const r of rows) {
      if (table === 'accounts') {
        r.f = r.f === null ? null : Number(r.f);
        r.r = r.r === null ? null : Number(r.r);
      }
      const key =
        table === 'orders' ? keyOf.orders(r.region as string, r.id as number) : JSON.stringify({ id: r.id });
      out.set(key, r);
    }
    return out;
  } finally {
    await c.end();
  }
}

/** Asserts the materialized topics equal `SELECT *` of every workload table. */
export async function assertMaterializedEqualsPostgres(
  url: string,
  events: readonly DecodedEvent[],
): Promise<void> {
  const mat = materialize(events);
  for (const table of ['accounts', 'orders', 'items']) {
    const want = await oracle(url, table);
    const got = new Map([...(mat.get(table) ?? new Map())].map(([k, v]) => [k, normalizeRow(table, v)]));
    assert.equal(got.size, want.size, `${table}: ${got.size} materialized rows, ${want.size} in Postgres`);
    for (const [k, row] of want) assert.deepEqual(got.get(k), row, `${table} ${k}`);
  }
}

/** Waits until `check` stops throwing (or rethrows its last error after `ms`). */
export async function eventually(check: () => Promise<void> | void, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** (table, key, op, ver) of an event, as the workload logs committed ops. */
export function opOf(e: DecodedEvent): CommittedOp | undefined {
  if (e.value === null || e.key === null) return undefined;
  const op = e.value.op as string;
  if (op !== 'c' && op !== 'u' && op !== 'd') return undefined;
  const after = e.value.after as Record<string, unknown> | null;
  const before = e.value.before as Record<string, unknown> | null;
  const ver = op === 'd' ? (e.table === 'items' ? String(before?.ver) : null) : String(after?.ver);
  return { table: e.table, key: e.key, op, ver };
}

export function opId(o: CommittedOp): string {
  return `${o.table}|${o.key}|${o.op}|${o.ver}`;
}

export interface DeliveryAudit {
  /** Committed changes with no event (deletes: per key, fewer delete events than deletes). */
  missing: number;
  /** Events seen more than once (at-least-once replays after a crash). */
  duplicates: number;
  committedDeletes: number;
}

/**
 * Compares what the workload saw commit with the events delivered. Inserts and updates are
 * identified by their globally unique `ver`; deletes carry no version (outside REPLICA
 * IDENTITY FULL), so per key there must be at least as many delete events as committed deletes.
 */
export function auditDelivery(
  committed: readonly CommittedOp[],
  events: readonly DecodedEvent[],
): DeliveryAudit {
  const seen = new Map<string, number>();
  const deleteEvents = new Map<string, number>();
  for (const e of events) {
    const o = opOf(e);
    if (o === undefined) continue;
    if (o.op === 'd')
      deleteEvents.set(`${o.table}|${o.key}`, (deleteEvents.get(`${o.table}|${o.key}`) ?? 0) + 1);
    else seen.set(opId(o), (seen.get(opId(o)) ?? 0) + 1);
  }
  let missing = 0;
  const committedDeletes = new Map<string, number>();
  for (const o of committed) {
    if (o.op === 'd')
      committedDeletes.set(`${o.table}|${o.key}`, (committedDeletes.get(`${o.table}|${o.key}`) ?? 0) + 1);
    else if (seen.get(opId(o)) === undefined) missing++;
  }
  for (const [k, n] of committedDeletes) missing += Math.max(0, n - (deleteEvents.get(k) ?? 0));
  const duplicates = [...seen.values()].reduce((a, n) => a + (n - 1), 0);
  return { missing, duplicates, committedDeletes: [...committedDeletes.values()].reduce((a, n) => a + n, 0) };
}
