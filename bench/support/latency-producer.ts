/**
 * The load generator of bench/broker.ts's latency run: a librdkafka producer
 * (@confluentinc/kafka-javascript, RdKafka API) set up for latency, sending 100-byte records at
 * a fixed rate, each carrying the time it was handed to the producer as a float64 of
 * `performance.timeOrigin + performance.now()` (ms since the epoch, sub-ms; comparable between
 * processes on one machine). bench/broker.ts runs it in its own process (the default) or, as a
 * separate process, as this file's main:
 *   node --import tsx bench/support/latency-producer.ts <bootstrap> <topic> <rate> <seconds>
 * with an IPC channel: it sends one stamped record every 100 ms until the parent sends 'go'
 * (the consumer has seen one, so it is fetching and there is no backlog), then the paced run,
 * then reports `{ sent }` and exits.
 */
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: the native client's objects, loosely typed here
export type Native = any;
export const { Producer, KafkaConsumer } = (
  require('@confluentinc/kafka-javascript') as typeof import('@confluentinc/kafka-javascript')
).RdKafka as unknown as {
  Producer: new (conf: Record<string, unknown>) => Native;
  KafkaConsumer: new (conf: Record<string, unknown>, topicConf: Record<string, unknown>) => Native;
};

/** Ms since the epoch with sub-ms resolution, on the same clock in every process here. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export async function connected(client: Native): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    client.connect({}, (err: unknown) => (err ? reject(err) : resolve())),
  );
}

/**
 * linger.ms 0: send at once (librdkafka still batches what queues up while a request is in
 * flight); acks 1. socket.nagle.disable is librdkafka's default (true) since 2.x.
 */
export async function latencyProducer(bootstrap: string): Promise<Native> {
  const p = new Producer({
    'bootstrap.servers': bootstrap,
    acks: 1,
    'linger.ms': Number(process.env.BENCH_LAT_LINGER_MS ?? 0),
    'batch.num.messages': 10_000,
    'compression.type': 'none',
  });
  await connected(p);
  p.setPollInterval(10);
  return p;
}

const VALUE = Buffer.alloc(100, 0x62);

function stamped(): Buffer {
  const v = Buffer.from(VALUE);
  v.writeDoubleLE(nowMs(), 0);
  return v;
}

/** One stamped record every 100 ms until `ready()`: the consumer is fetching before the clock starts. */
export async function warmUp(p: Native, topic: string, ready: () => boolean): Promise<void> {
  while (!ready()) {
    p.produce(topic, 0, stamped(), null, Date.now());
    await sleep(100);
  }
}

/**
 * `rate` records/s for `seconds`, paced by a 1 ms timer rather than a setImmediate spin (a
 * spinning load generator would take a whole core from the broker and the consumer on this
 * 2-core machine). Each record carries the time it was handed to the producer, so the pacing
 * adds nothing to the figures. `tick` runs once per pacing step; `value` makes each record's
 * value (default: the send time as a float64). Returns the records sent.
 */
export async function pacedProduce(
  p: Native,
  topic: string,
  rate: number,
  seconds: number,
  tick: (now: number) => void = () => undefined,
  value: () => Buffer = stamped,
): Promise<number> {
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let sent = 0;
  while (performance.now() < end) {
    tick(performance.now());
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    while (sent < due) {
      try {
        p.produce(topic, 0, value(), null, Date.now());
        sent++;
      } catch {
        break; // local queue full: try again on the next step
      }
    }
    await sleep(1);
  }
  return sent;
}

export async function disconnect(client: Native): Promise<void> {
  await new Promise<void>((resolve) => client.disconnect(() => resolve()));
}

async function main(): Promise<void> {
  const [bootstrap, topic, rate, seconds] = process.argv.slice(2);
  if (bootstrap === undefined || topic === undefined || process.send === undefined)
    throw new Error('usage: latency-producer.ts <bootstrap> <topic> <rate> <seconds>, with an IPC channel');
  const p = await latencyProducer(bootstrap);
  let go = false;
  process.once('message', () => {
    go = true;
  });
  await warmUp(p, topic, () => go);
  const sent = await pacedProduce(p, topic, Number(rate), Number(seconds));
  process.send({ sent });
  await disconnect(p);
  process.disconnect();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
