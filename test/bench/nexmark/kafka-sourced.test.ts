/**
 * The Kafka-sourced Nexmark path (bench/nexmark/kafka-sourced.ts) computes what the in-process
 * run computes: 20 000 generated events go into a 2-partition topic on an in-process broker,
 * q1 (stateless) and q3 (a join behind a repartition topic, stateful) run as StreamApps on
 * StreamRuntime (embedded transport, exactly_once), and their committed outputs equal, as
 * multisets, the same queries' outputs from the TestDriver over the same generated events.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type NexmarkBroker,
  produceNexmark,
  runKafkaQuery,
  startNexmarkBroker,
} from '../../../bench/nexmark/kafka-sourced.js';
import {
  type NexmarkEvent,
  NexmarkGenerator,
  nexmarkWatermark,
  QUERIES,
} from '../../../src/connectors/index.js';
import { StreamApp, TestDriver } from '../../../src/stream/index.js';

const EVENTS = 20_000;
const PARTITIONS = 2;
const config = { seed: 7, firstEventRate: 10_000 };

let nb: NexmarkBroker;
before(async () => {
  nb = await startNexmarkBroker();
  await produceNexmark(nb.transport, EVENTS, PARTITIONS, config);
});
after(async () => {
  await nb?.close();
});

/** The query in process (TestDriver) over the same events; output values as sorted JSON. */
function inProcess(q: string): string[] {
  const gen = new NexmarkGenerator(config);
  const app = new StreamApp(`nexmark-${q}`, { maxFutureMs: Number.MAX_SAFE_INTEGER });
  const out = QUERIES[q](app, { watermark: nexmarkWatermark(gen) });
  const driver = new TestDriver(app);
  const input = driver.input<NexmarkEvent>('nexmark');
  for (let i = 0; i < EVENTS; i += 250) {
    const batch: NexmarkEvent[] = [];
    for (let j = i; j < Math.min(EVENTS, i + 250); j++) batch.push(gen.next());
    input.pipeAll(batch.map((e) => ({ value: e, timestamp: e.dateTime })));
  }
  driver.end();
  assert.deepEqual(driver.deadLetters(), []);
  const rows = driver
    .output(out)
    .records()
    .map((r) => JSON.stringify(r.value));
  driver.close();
  return rows.sort();
}

for (const q of ['q1', 'q3']) {
  test(`${q} from a topic on StreamRuntime equals the in-process output (multiset)`, async () => {
    const expected = inProcess(q);
    assert.ok(expected.length > 10, `${q} has output on this run (${expected.length})`);
    const kafka = await runKafkaQuery(nb.transport, q, {
      events: EVENTS,
      partitions: PARTITIONS,
      config,
      collect: true,
    });
    const got = (kafka.values ?? []).map((v) => JSON.stringify(v)).sort();
    assert.equal(kafka.outputs, expected.length);
    assert.deepEqual(got, expected);
  });
}
