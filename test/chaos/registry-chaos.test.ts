/**
 * The schema registry under kill -9, with real processes through the real CLI:
 *   - separate: `sluice broker` and `sluice registry --bootstrap` (the `_schemas` topic over
 *     the kafka transport, TCP);
 *   - combined: `sluice broker --registry` (the broker's own `_schemas` topic, embedded
 *     transport).
 * Each round starts the processes on the same data directory and ports, checks everything
 * acknowledged so far, then runs four HTTP clients that register new Avro, JSON Schema and
 * Protobuf schemas (each followed by a lookup for its version), soft-delete some versions
 * and permanently delete some soft-deleted ones, and kills every process with SIGKILL at a
 * random moment (separate: both, in random order, a random gap apart). After the last round
 * the processes are restarted once more and checked:
 *   - every acknowledged registration is there under its subject, version and id, with its
 *     schema (soft-deleted ones only with ?deleted=true; permanently deleted ones gone);
 *     a delete whose answer was lost may or may not have happened, nothing else is uncertain;
 *   - an id always names the same schema in every round (ids are never reused, also not
 *     those of permanently deleted schemas), and distinct schemas have distinct ids.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, kill, waitLine } from './support/processes.js';

const ROUNDS = 3;
const WORKERS = 4;
/** A round's kill waits for this many acknowledged registrations (or 30 s), then a random 0-1 s. */
const MIN_ACKS_PER_ROUND = 10;
const CLI = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const TYPES = ['AVRO', 'JSON', 'PROTOBUF'] as const;
type SchemaType = (typeof TYPES)[number];
const CT = { 'content-type': 'application/vnd.schemaregistry.v1+json' };

function cli(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, SLUICE_LOG_LEVEL: 'silent' },
  });
}

/** A schema unique to n: its marker `U<n>x` names the record / property / message. */
function schemaFor(type: SchemaType, n: number): string {
  const m = `U${n}x`;
  if (type === 'AVRO')
    return JSON.stringify({ type: 'record', name: m, fields: [{ name: 'f', type: 'long' }] });
  if (type === 'JSON')
    return JSON.stringify({ type: 'object', properties: { [m]: { type: 'string' } }, required: [m] });
  return `syntax = "proto3";\nmessage ${m} {\n  string f = 1;\n}\n`;
}

function markerOf(schema: string): number {
  const m = /U(\d+)x/.exec(schema);
  assert.ok(m !== null, `schema without a marker: ${schema}`);
  return Number(m[1]);
}

type State = 'live' | 'soft' | 'hard';
interface Entry {
  n: number;
  type: SchemaType;
  subject: string;
  id: number;
  version?: number;
  state: State;
  /** A delete was sent and its answer lost: the state may be this one. */
  maybe?: State;
}

class Http {
  constructor(private readonly base: string) {}
  async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: body === undefined ? {} : CT,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
  }
}

/** Registers, looks up and deletes until stopped or the registry goes away. */
async function workload(http: Http, w: number, next: () => number, entries: Entry[], stop: () => boolean) {
  const mine: Entry[] = [];
  while (!stop()) {
    const n = next();
    const type = TYPES[n % TYPES.length];
    const subject = `w${w}-${type.toLowerCase()}`;
    const schema = schemaFor(type, n);
    try {
      const r = await http.call('POST', `/subjects/${subject}/versions`, { schema, schemaType: type });
      if (r.status !== 200) continue; // e.g. 50001 while the broker is gone: not acknowledged
      const entry: Entry = { n, type, subject, id: (r.json as { id: number }).id, state: 'live' };
      entries.push(entry);
      mine.push(entry);
      const l = await http.call('POST', `/subjects/${subject}`, { schema, schemaType: type });
      if (l.status === 200) entry.version = (l.json as { version: number }).version;
      if (n % 5 === 2) {
        const victim = mine.find(
          (e) => e.state === 'live' && e.maybe === undefined && e.version !== undefined,
        );
        if (victim !== undefined) {
          victim.maybe = 'soft';
          const d = await http.call('DELETE', `/subjects/${victim.subject}/versions/${victim.version}`);
          if (d.status === 200) {
            victim.state = 'soft';
            victim.maybe = undefined;
          }
        }
      }
      if (n % 7 === 3) {
        const victim = mine.find((e) => e.state === 'soft' && e.maybe === undefined);
        if (victim !== undefined) {
          victim.maybe = 'hard';
          const d = await http.call(
            'DELETE',
            `/subjects/${victim.subject}/versions/${victim.version}?permanent=true`,
          );
          if (d.status === 200) {
            victim.state = 'hard';
            victim.maybe = undefined;
          }
        }
      }
    } catch {
      return; // the registry was killed: this worker's round is over
    }
  }
}

/** Checks every entry and the id → schema map; resolves lost delete answers to what is stored. */
async function verify(
  http: Http,
  entries: readonly Entry[],
  contentById: Map<number, number>,
): Promise<void> {
  const all = await http.call('GET', '/schemas?deleted=true');
  assert.equal(all.status, 200);
  for (const v of all.json as { id: number; schema: string }[]) {
    const marker = markerOf(v.schema);
    const known = contentById.get(v.id);
    assert.ok(known === undefined || known === marker, `id ${v.id} named U${known}x and now U${marker}x`);
    contentById.set(v.id, marker);
  }
  const ids = new Map<number, number>();
  for (const e of entries) {
    const other = ids.get(e.id);
    assert.ok(other === undefined, `U${e.n}x and U${other}x were both acknowledged with id ${e.id}`);
    ids.set(e.id, e.n);
    const known = contentById.get(e.id);
    assert.ok(
      known === undefined || known === e.n,
      `id ${e.id} was acknowledged for U${e.n}x, names U${known}x`,
    );
    contentById.set(e.id, e.n);
    if (e.version === undefined) {
      // The lookup's answer was lost; the registration itself was acknowledged.
      const l = await http.call('POST', `/subjects/${e.subject}`, {
        schema: schemaFor(e.type, e.n),
        schemaType: e.type,
      });
      assert.equal(l.status, 200, `acknowledged U${e.n}x in ${e.subject}: ${JSON.stringify(l.json)}`);
      e.version = (l.json as { version: number }).version;
    }
    // After a hard delete the subject may hand the same version number to a later schema
    // (Confluent numbers from the highest surviving version), so a version is e's only while
    // it holds e's schema.
    const path = `/subjects/${e.subject}/versions/${e.version}`;
    const mineAt = (r: { status: number; json: unknown }) =>
      r.status === 200 && markerOf((r.json as { schema: string }).schema) === e.n;
    const live = await http.call('GET', path);
    const any = await http.call('GET', `${path}?deleted=true`);
    const byId = await http.call('GET', `/schemas/ids/${e.id}`);
    let observed: State;
    if (mineAt(live)) observed = 'live';
    else if (mineAt(any)) observed = 'soft';
    else observed = 'hard';
    const allowed = e.maybe === undefined ? [e.state] : [e.state, e.maybe];
    assert.ok(
      allowed.includes(observed),
      `${e.subject} v${e.version} (U${e.n}x, id ${e.id}) is ${observed}, expected ${allowed.join(' or ')}: ${live.status}/${any.status}`,
    );
    e.state = observed;
    e.maybe = undefined;
    if (observed !== 'hard') {
      const v = (observed === 'live' ? live : any).json as { id: number; subject: string };
      assert.equal(v.id, e.id, `${path}: id`);
      assert.equal(v.subject, e.subject);
      assert.equal(byId.status, 200);
      assert.equal(markerOf((byId.json as { schema: string }).schema), e.n);
    } else {
      // Its schema was used by this version only: the id resolves no more (and is never reused).
      assert.equal(byId.status, 404, `id ${e.id} of hard-deleted U${e.n}x: ${JSON.stringify(byId.json)}`);
    }
  }
}

interface Setup {
  start(): Promise<{ processes: ChildProcess[]; url: string }>;
}

async function chaos(setup: Setup): Promise<{ entries: Entry[]; rounds: number }> {
  const entries: Entry[] = [];
  const contentById = new Map<number, number>();
  let counter = 0;
  let processes: ChildProcess[] = [];
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      const started = await setup.start();
      processes = started.processes;
      const http = new Http(started.url);
      if (round === 0)
        assert.equal((await http.call('PUT', '/config', { compatibility: 'NONE' })).status, 200);
      await verify(http, entries, contentById);
      if (round === ROUNDS) break;
      let stopped = false;
      const workers = Array.from({ length: WORKERS }, (_, w) =>
        workload(
          http,
          w,
          () => counter++,
          entries,
          () => stopped,
        ),
      );
      // Kill at a random moment once this round has acknowledged a few writes.
      const before = entries.length;
      for (let i = 0; i < 600 && entries.length < before + MIN_ACKS_PER_ROUND; i++) await sleep(50);
      await sleep(Math.random() * 1000);
      const order = Math.random() < 0.5 ? processes : [...processes].reverse();
      for (const p of order) {
        await kill(p);
        await sleep(Math.random() * 100);
      }
      stopped = true;
      await Promise.all(workers);
    }
    // Soft deletes whose answer was lost are resolved by verify; whatever is still live can be read.
    return { entries, rounds: ROUNDS };
  } finally {
    for (const p of processes) await kill(p);
  }
}

function summary(entries: readonly Entry[]): Record<State, number> {
  const out: Record<State, number> = { live: 0, soft: 0, hard: 0 };
  for (const e of entries) out[e.state]++;
  return out;
}

describe('schema registry under kill -9', { timeout: 240_000 }, () => {
  it('separate processes: sluice broker + sluice registry --bootstrap; every acknowledged schema survives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-registry-chaos-'));
    try {
      const brokerPort = await freePort();
      const registryPort = await freePort();
      const { entries } = await chaos({
        async start() {
          const broker = cli(['broker', '--port', String(brokerPort), '--data-dir', dir]);
          await waitLine(broker, 'sluice broker listening', 60_000);
          const registry = cli([
            'registry',
            '--port',
            String(registryPort),
            '--bootstrap',
            `127.0.0.1:${brokerPort}`,
            '--timeout',
            '30000',
          ]);
          const m = await waitLine(registry, /schema registry listening on (\S+)/, 90_000);
          return { processes: [broker, registry], url: m[1] };
        },
      });
      const s = summary(entries);
      assert.ok(entries.length >= 30, `only ${entries.length} registrations were acknowledged`);
      assert.ok(s.soft + s.hard > 0, 'some deletes were acknowledged');
      assert.deepEqual(new Set(entries.map((e) => e.type)), new Set(TYPES));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('one process: sluice broker --registry; every acknowledged schema survives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-registry-chaos-'));
    try {
      const brokerPort = await freePort();
      const registryPort = await freePort();
      const { entries } = await chaos({
        async start() {
          const broker = cli([
            'broker',
            '--port',
            String(brokerPort),
            '--data-dir',
            dir,
            '--registry',
            '--registry-port',
            String(registryPort),
          ]);
          const m = await waitLine(broker, /schema registry listening on (\S+)/, 90_000);
          return { processes: [broker], url: m[1] };
        },
      });
      const s = summary(entries);
      assert.ok(entries.length >= 30, `only ${entries.length} registrations were acknowledged`);
      assert.ok(s.soft + s.hard > 0, 'some deletes were acknowledged');
      assert.deepEqual(new Set(entries.map((e) => e.type)), new Set(TYPES));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
