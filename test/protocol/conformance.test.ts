/**
 * Conformance: Sluice's message definitions agree with Apache Kafka's JSON message definitions
 * for every API and version Sluice claims (field names, order, types, nullable and tagged
 * versions, tags, defaults, ignorable, flexible versions, valid version ranges).
 *
 * The JSON lives outside the repository: `../shared/kafka-protocol` relative to the repo root
 * (CI), or `../../shared/kafka-protocol` (a git worktree under wt/), or $SLUICE_KAFKA_PROTOCOL_DIR.
 * Without it the test is skipped with a message.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  CONSUMER_PROTOCOL_MAX_VERSION,
  ConsumerProtocolAssignment,
  ConsumerProtocolSubscription,
  type Field,
  inRange,
  type MessageDef,
  SUPPORTED_APIS,
} from '../../src/protocol/index.js';

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const candidates = [
  process.env.SLUICE_KAFKA_PROTOCOL_DIR,
  join(repoRoot, '..', 'shared', 'kafka-protocol'),
  join(repoRoot, '..', '..', 'shared', 'kafka-protocol'),
].filter((p): p is string => p !== undefined && p !== '');
const dir = candidates.find((p) => existsSync(join(p, 'ApiVersionsRequest.json')));

interface KField {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  default?: string | number | boolean;
  ignorable?: boolean;
  fields?: KField[];
}
interface KMessage {
  name: string;
  apiKey?: number;
  validVersions: string;
  flexibleVersions: string;
  fields: KField[];
  commonStructs?: { name: string; fields: KField[] }[];
}

/** Kafka's files are JSON with whole-line // comments. */
function load(name: string): KMessage {
  const text = readFileSync(join(dir as string, `${name}.json`), 'utf8');
  return JSON.parse(
    text
      .split('\n')
      .filter((l) => !/^\s*\/\//.test(l))
      .join('\n'),
  ) as KMessage;
}

const PRIMITIVES = new Set([
  'int8',
  'int16',
  'uint16',
  'int32',
  'int64',
  'float64',
  'bool',
  'string',
  'bytes',
  'records',
  'uuid',
]);

function expectedType(t: string): string {
  const base = t.replace(/^\[\]/, '');
  if (PRIMITIVES.has(base)) return t;
  return t.startsWith('[]') ? '[]struct' : 'struct';
}

function expectedDefault(k: KField): unknown {
  if (k.default === undefined) return undefined;
  if (typeof k.default !== 'string') return k.default;
  const s = k.default.trim();
  if (s === 'null') return null;
  if (k.type === 'bool') return s === 'true';
  if (k.type === 'string') return s;
  return s.startsWith('0x') ? Number.parseInt(s, 16) : Number(s);
}

const camel = (n: string) => n[0]?.toLowerCase() + n.slice(1);

function compareFields(
  ours: readonly Field[],
  theirs: readonly KField[],
  common: Map<string, KField[]>,
  v: number,
  flexible: boolean,
  path: string,
): number {
  const mine = ours.filter((f) => inRange(f.versions, v));
  const kafka = theirs.filter((k) => inRange(k.versions, v));
  assert.deepEqual(
    mine.map((f) => f.name),
    kafka.map((k) => camel(k.name)),
    `${path} v${v}: field names and order`,
  );
  let checked = 0;
  for (let i = 0; i < kafka.length; i++) {
    const k = kafka[i] as KField;
    const f = mine[i] as Field;
    const at = `${path}.${f.name} v${v}`;
    assert.equal(f.type, expectedType(k.type.trim()), `${at}: type`);
    assert.equal(inRange(f.nullable, v), inRange(k.nullableVersions, v), `${at}: nullable`);
    const taggedK = flexible && inRange(k.taggedVersions, v);
    assert.equal(flexible && inRange(f.tagged, v), taggedK, `${at}: tagged`);
    if (taggedK) assert.equal(f.tag, k.tag, `${at}: tag`);
    assert.equal(f.ignorable === true, k.ignorable === true, `${at}: ignorable`);
    assert.deepEqual(f.default, expectedDefault(k), `${at}: default`);
    checked++;
    if (f.type === 'struct' || f.type === '[]struct') {
      const sub = k.fields ?? common.get(k.type.trim().replace(/^\[\]/, ''));
      assert.ok(sub, `${at}: Kafka struct fields`);
      checked += compareFields(f.fields ?? [], sub, common, v, flexible, at);
    }
  }
  return checked;
}

function conforms(def: MessageDef, file: string, min: number, max: number): number {
  const k = load(file);
  assert.equal(def.name, k.name);
  if (k.apiKey !== undefined) assert.equal(def.apiKey, k.apiKey, `${file}: api key`);
  assert.ok(
    inRange(k.validVersions, min) && inRange(k.validVersions, max),
    `${file}: ${min}-${max} within ${k.validVersions}`,
  );
  const common = new Map((k.commonStructs ?? []).map((c) => [c.name, c.fields]));
  let checked = 0;
  for (let v = min; v <= max; v++) {
    const flexible = inRange(k.flexibleVersions, v);
    assert.equal(inRange(def.flexible, v), flexible, `${file} v${v}: flexible`);
    checked += compareFields(def.fields, k.fields, common, v, flexible, def.name);
  }
  return checked;
}

describe('conformance with Apache Kafka message definitions', {
  skip: dir === undefined ? `kafka-protocol JSON not found (looked in ${candidates.join(', ')})` : false,
}, () => {
  for (const api of SUPPORTED_APIS) {
    it(`${api.name} v${api.minVersion}-${api.maxVersion} request and response`, () => {
      const n =
        conforms(api.request, `${api.name}Request`, api.minVersion, api.maxVersion) +
        conforms(api.response, `${api.name}Response`, api.minVersion, api.maxVersion);
      assert.ok(n > 0);
    });
  }

  it('ConsumerProtocolSubscription and ConsumerProtocolAssignment v0-3', () => {
    assert.ok(
      conforms(
        ConsumerProtocolSubscription,
        'ConsumerProtocolSubscription',
        0,
        CONSUMER_PROTOCOL_MAX_VERSION,
      ) > 0,
    );
    assert.ok(
      conforms(ConsumerProtocolAssignment, 'ConsumerProtocolAssignment', 0, CONSUMER_PROTOCOL_MAX_VERSION) >
        0,
    );
  });

  it('request and response headers: client id never compact, tagged fields from v2 / v1', () => {
    const req = load('RequestHeader');
    const clientId = req.fields.find((f) => f.name === 'ClientId') as KField & { flexibleVersions?: string };
    assert.equal(clientId.flexibleVersions, 'none');
    assert.equal(req.flexibleVersions, '2+');
    assert.equal(load('ResponseHeader').flexibleVersions, '1+');
  });
});
