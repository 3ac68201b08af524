/**
 * Registry write latency per storage: sequential registrations (one schema each) through
 * SchemaRegistry over MemoryStorage (baseline, same run), FileStorage (fdatasync per write),
 * TopicStorage over the embedded transport and over the kafka transport (TCP to an in-process
 * Sluice broker). Prints one JSON object: per storage the median of REPS runs of N writes,
 * writes per second and p50/p99 latency, and the ratio to the memory baseline.
 *   node --import tsx bench/registry-write.ts [N=200] [REPS=3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, resolveBrokerConfig } from '../src/broker/index.js';
import {
  FileStorage,
  MemoryStorage,
  type RegistryStorage,
  SchemaRegistry,
  TopicStorage,
} from '../src/registry/index.js';
import { createEmbeddedTransport, createKafkaTransport } from '../src/transport/index.js';

const N = Number(process.argv[2] ?? 200);
const REPS = Number(process.argv[3] ?? 3);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function run(
  storage: RegistryStorage,
  rep: number,
): Promise<{ seconds: number; p50: number; p99: number }> {
  const registry = await SchemaRegistry.open(storage, { defaultCompatibility: 'NONE' });
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const s = performance.now();
    await registry.register(`bench-${i % 10}`, {
      schema: JSON.stringify({ type: 'record', name: `R${rep}_${i}`, fields: [{ name: 'f', type: 'long' }] }),
    });
    lat.push(performance.now() - s);
  }
  const seconds = (performance.now() - t0) / 1000;
  await registry.close();
  return { seconds, p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
}

const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-registry-'));
const broker = await Broker.start(
  resolveBrokerConfig({ flags: { port: 0, host: '127.0.0.1', dataDir: join(dir, 'broker') } }),
);
const embedded = createEmbeddedTransport(broker);
const kafka = createKafkaTransport({ bootstrap: `127.0.0.1:${broker.address.port}` });
const storages: Record<string, (rep: number) => RegistryStorage> = {
  memory: () => new MemoryStorage(),
  file: (rep) => new FileStorage(join(dir, `file-${rep}`)),
  'topic-embedded': (rep) => new TopicStorage(embedded, { topic: `_schemas-e${rep}` }),
  'topic-kafka': (rep) => new TopicStorage(kafka, { topic: `_schemas-k${rep}` }),
};
const results: Record<string, { writesPerSecond: number; p50Ms: number; p99Ms: number; perRep: number[] }> =
  {};
try {
  // Interleave storages within each rep so load on the shared machine hits all alike.
  const raw: Record<string, { seconds: number; p50: number; p99: number }[]> = {};
  for (let rep = 0; rep < REPS; rep++) {
    for (const [name, make] of Object.entries(storages)) (raw[name] ??= []).push(await run(make(rep), rep));
  }
  for (const [name, rs] of Object.entries(raw)) {
    const rates = rs.map((r) => N / r.seconds);
    results[name] = {
      writesPerSecond: Math.round(median(rates)),
      p50Ms: Number(median(rs.map((r) => r.p50)).toFixed(2)),
      p99Ms: Number(median(rs.map((r) => r.p99)).toFixed(2)),
      perRep: rates.map((r) => Math.round(r)),
    };
  }
} finally {
  await kafka.close();
  await embedded.close();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
}
const base = results.memory.writesPerSecond;
console.log(
  JSON.stringify({
    name: 'registry-write',
    events: N,
    reps: REPS,
    baseline: { name: 'memory', writesPerSecond: base },
    results: Object.fromEntries(
      Object.entries(results).map(([k, v]) => [
        k,
        { ...v, ratioToMemory: Number((v.writesPerSecond / base).toFixed(4)) },
      ]),
    ),
  }),
);
