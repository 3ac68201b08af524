/**
 * Broker configuration: defaults, then a config file's object, then environment variables,
 * then command-line flags (later sources win). Pure: the caller reads the file and passes
 * process.env; this module only merges and validates, so every source is testable.
 *
 * Names: camelCase in files and flags (`maxRequestBytes`), SLUICE_BROKER_ + UPPER_SNAKE in the
 * environment (`SLUICE_BROKER_MAX_REQUEST_BYTES`). SASL users come from the file only
 * (`sasl.users: [{ name, password }]`), never from flags or the environment.
 * Invalid values throw SluiceError INVALID_CONFIG naming the key and the source.
 */
import { SluiceError } from '../common/index.js';
import { SASL_MECHANISMS, type SaslMechanism, type SaslUser } from './sasl.js';

export interface BrokerConfig {
  /** Interface to listen on. */
  host: string;
  port: number;
  /** Address clients are told to connect to (Metadata, FindCoordinator); default host/port. */
  advertisedHost: string;
  advertisedPort: number;
  dataDir: string;
  nodeId: number;
  clusterId: string;
  autoCreateTopics: boolean;
  defaultPartitions: number;
  maxRequestBytes: number;
  maxConnections: number;
  groupInitialRebalanceDelayMs: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  /** Topic-config defaults for new topics (Kafka names, e.g. 'retention.ms'), passed to log/. */
  topicDefaults: Record<string, string | number>;
  sasl: { enabled: boolean; mechanisms: SaslMechanism[]; users: SaslUser[] };
}

export interface ConfigSources {
  file?: Record<string, unknown>;
  env?: Record<string, string | undefined>;
  flags?: Record<string, unknown>;
}

type Kind = 'string' | 'port' | 'int' | 'bool';

const SCALARS: Record<string, { kind: Kind; min?: number }> = {
  host: { kind: 'string' },
  port: { kind: 'port' },
  advertisedHost: { kind: 'string' },
  advertisedPort: { kind: 'port' },
  dataDir: { kind: 'string' },
  nodeId: { kind: 'int', min: 0 },
  clusterId: { kind: 'string' },
  autoCreateTopics: { kind: 'bool' },
  defaultPartitions: { kind: 'int', min: 1 },
  maxRequestBytes: { kind: 'int', min: 1024 },
  maxConnections: { kind: 'int', min: 1 },
  groupInitialRebalanceDelayMs: { kind: 'int', min: 0 },
  groupMinSessionTimeoutMs: { kind: 'int', min: 1 },
  groupMaxSessionTimeoutMs: { kind: 'int', min: 1 },
};

const DEFAULTS = {
  host: '127.0.0.1',
  port: 9092,
  dataDir: './sluice-data',
  nodeId: 1,
  clusterId: 'sluice',
  autoCreateTopics: true,
  defaultPartitions: 1,
  maxRequestBytes: 100 * 1024 * 1024,
  maxConnections: 10_000,
  groupInitialRebalanceDelayMs: 3000,
  groupMinSessionTimeoutMs: 6000,
  groupMaxSessionTimeoutMs: 1_800_000,
};

const envName = (key: string) => `SLUICE_BROKER_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

function invalid(key: string, source: string, value: unknown, why: string): never {
  throw new SluiceError('INVALID_CONFIG', `${source}: ${key}=${JSON.stringify(value)} ${why}`, {
    details: { key, source },
  });
}

function coerce(
  key: string,
  kind: Kind,
  min: number | undefined,
  value: unknown,
  source: string,
): string | number | boolean {
  if (kind === 'string') {
    if (typeof value !== 'string' || value === '') invalid(key, source, value, 'must be a non-empty string');
    return value;
  }
  if (kind === 'bool') {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    return invalid(key, source, value, 'must be true or false');
  }
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== ''
        ? Number(value)
        : Number.NaN;
  if (!Number.isInteger(n)) invalid(key, source, value, 'must be an integer');
  if (kind === 'port' && (n < 0 || n > 65535)) invalid(key, source, value, 'must be a port (0-65535)');
  if (min !== undefined && n < min) invalid(key, source, value, `must be at least ${min}`);
  return n;
}

export function resolveBrokerConfig(sources: ConfigSources = {}): BrokerConfig {
  const out: Record<string, unknown> = { ...DEFAULTS };
  const layers: [string, Record<string, unknown>][] = [];
  if (sources.file !== undefined) layers.push(['config file', sources.file]);
  if (sources.env !== undefined) {
    const fromEnv: Record<string, unknown> = {};
    for (const key of Object.keys(SCALARS)) {
      const v = sources.env[envName(key)];
      if (v !== undefined) fromEnv[key] = v;
    }
    layers.push(['environment', fromEnv]);
  }
  if (sources.flags !== undefined) layers.push(['flags', sources.flags]);
  for (const [source, layer] of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      const spec = SCALARS[key];
      if (spec !== undefined) out[key] = coerce(key, spec.kind, spec.min, value, source);
      else if (source !== 'config file' || (key !== 'sasl' && key !== 'topicDefaults')) {
        invalid(key, source, value, 'is not a broker setting');
      }
    }
  }
  const file = sources.file ?? {};
  const topicDefaults: Record<string, string | number> = {};
  if (file.topicDefaults !== undefined) {
    if (typeof file.topicDefaults !== 'object' || file.topicDefaults === null)
      invalid('topicDefaults', 'config file', file.topicDefaults, 'must be an object');
    for (const [k, v] of Object.entries(file.topicDefaults as Record<string, unknown>)) {
      if (typeof v !== 'string' && typeof v !== 'number')
        invalid(`topicDefaults.${k}`, 'config file', v, 'must be a string or number');
      topicDefaults[k] = v;
    }
  }
  const sasl = parseSasl(file.sasl);
  const min = out.groupMinSessionTimeoutMs as number;
  if ((out.groupMaxSessionTimeoutMs as number) < min) {
    invalid(
      'groupMaxSessionTimeoutMs',
      'config',
      out.groupMaxSessionTimeoutMs,
      `must be at least groupMinSessionTimeoutMs (${min})`,
    );
  }
  return {
    ...(out as Omit<BrokerConfig, 'advertisedHost' | 'advertisedPort' | 'topicDefaults' | 'sasl'>),
    advertisedHost: (out.advertisedHost as string | undefined) ?? (out.host as string),
    advertisedPort: (out.advertisedPort as number | undefined) ?? (out.port as number),
    topicDefaults,
    sasl,
  };
}

function parseSasl(raw: unknown): BrokerConfig['sasl'] {
  if (raw === undefined) return { enabled: false, mechanisms: [...SASL_MECHANISMS], users: [] };
  if (typeof raw !== 'object' || raw === null) invalid('sasl', 'config file', raw, 'must be an object');
  const r = raw as Record<string, unknown>;
  const enabled = r.enabled === undefined ? true : r.enabled === true;
  const mechanisms = (r.mechanisms ?? [...SASL_MECHANISMS]) as unknown[];
  if (
    !Array.isArray(mechanisms) ||
    mechanisms.some((m) => !(SASL_MECHANISMS as readonly unknown[]).includes(m))
  ) {
    invalid(
      'sasl.mechanisms',
      'config file',
      r.mechanisms,
      `must list some of ${SASL_MECHANISMS.join(', ')}`,
    );
  }
  const users = (r.users ?? []) as unknown[];
  if (!Array.isArray(users)) invalid('sasl.users', 'config file', r.users, 'must be a list');
  const parsed = users.map((u, i) => {
    const x = u as Record<string, unknown>;
    if (typeof x?.name !== 'string' || x.name === '' || typeof x.password !== 'string') {
      invalid(`sasl.users[${i}]`, 'config file', '…', 'needs a name and a password');
    }
    return { name: x.name as string, password: x.password as string };
  });
  if (enabled && parsed.length === 0)
    invalid('sasl.users', 'config file', [], 'must name at least one user when SASL is enabled');
  return { enabled, mechanisms: mechanisms as SaslMechanism[], users: parsed };
}
