/**
 * Reads topics back with a real Kafka client (librdkafka through @confluentinc/kafka-javascript):
 * every record of every partition from the log start up to the high watermark at the time of
 * the call, in offset order per partition. For tests that check what a producer left in a
 * topic (Sluice's broker or any cluster). Uses a fresh consumer group (nothing committed) and
 * closes its clients before returning, so no librdkafka thread outlives the call.
 */
import { KafkaJS } from '@confluentinc/kafka-javascript';

export interface ReadRecord {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string> | undefined;
}

export async function readTopics(
  bootstrap: string,
  topics: readonly string[],
  timeoutMs = 60_000,
): Promise<ReadRecord[]> {
  const kafka = new KafkaJS.Kafka({ 'bootstrap.servers': bootstrap, log_level: 0 } as never);
  const admin = kafka.admin();
  await admin.connect();
  const want = new Map<string, number>(); // "topic/partition" → high watermark
  try {
    for (const topic of topics)
      for (const p of await admin.fetchTopicOffsets(topic))
        if (Number(p.high) > Number(p.low)) want.set(`${topic}/${p.partition}`, Number(p.high));
  } finally {
    await admin.disconnect();
  }
  if (want.size === 0) return [];
  const consumer = kafka.consumer({
    'group.id': `read-${process.pid}-${Date.now()}-${Math.random()}`,
    'auto.offset.reset': 'earliest',
    'enable.auto.commit': false,
  } as never);
  await consumer.connect();
  const out: ReadRecord[] = [];
  try {
    await consumer.subscribe({
      topics: [...new Set([...want.keys()].map((k) => k.slice(0, k.lastIndexOf('/'))))],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`read ${out.length} records; partitions not read to their end: ${[...want.keys()]}`),
          ),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: async ({ topic, partition, message }) => {
            const tp = `${topic}/${partition}`;
            const high = want.get(tp);
            const offset = Number(message.offset);
            if (high === undefined || offset >= high) return; // written after the call began
            let headers: Record<string, string> | undefined;
            if (message.headers !== undefined && Object.keys(message.headers).length > 0) {
              headers = {};
              for (const [k, v] of Object.entries(message.headers))
                headers[k] = String(Array.isArray(v) ? v[0] : v);
            }
            out.push({
              topic,
              partition,
              offset,
              key: message.key ?? null,
              value: message.value ?? null,
              headers,
            });
            if (offset >= high - 1) want.delete(tp);
            if (want.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => {});
  }
  return out;
}
