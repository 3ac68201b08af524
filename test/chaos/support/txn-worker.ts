/**
 * The chaos test's read-process-write worker, run as a real process:
 * `node --import tsx txn-worker.ts <port> [records/s]`. With kafkajs it consumes `chaos-in` in the group
 * `chaos` and, per fetched batch, in one transaction (fixed transactional id `chaos-tx`, so a
 * restarted worker fences its predecessor) writes each value to `chaos-out` and commits the
 * consumed offsets with sendOffsets. The producer connects (InitProducerId) before the consumer
 * fetches its offsets: InitProducerId only succeeds once the predecessor's transaction is
 * complete, so the offsets read are final. Any error exits the process; the test restarts it. Prints COMMITTED after each transaction.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');

const port = process.argv[2];
const RATE = Number(process.argv[3] ?? 20_000);
const kafka = new Kafka({
  clientId: `worker-${process.pid}`,
  brokers: [`127.0.0.1:${port}`],
  logLevel: logLevel.NOTHING,
  retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
});
const fail = (code: number) => () => process.exit(code);
process.on('unhandledRejection', fail(4));
process.on('uncaughtException', fail(5));

const producer = kafka.producer({
  transactionalId: 'chaos-tx',
  maxInFlightRequests: 1,
  idempotent: true,
  transactionTimeout: 5000,
});
await producer.connect();
const consumer = kafka.consumer({
  groupId: 'chaos',
  sessionTimeout: 1500,
  rebalanceTimeout: 1500,
  heartbeatInterval: 300,
  maxWaitTimeInMs: 100,
  maxBytesPerPartition: 64 * 1024,
  retry: { retries: 5 },
});
consumer.on(consumer.events.CRASH, fail(2));
await consumer.connect();
await consumer.subscribe({ topic: 'chaos-in', fromBeginning: true });
await consumer.run({
  autoCommit: false,
  eachBatchAutoResolve: false,
  eachBatch: async ({ batch, resolveOffset }) => {
    if (batch.messages.length === 0) return;
    const txn = await producer.transaction();
    try {
      await txn.send({ topic: 'chaos-out', messages: batch.messages.map((m) => ({ value: m.value })) });
      // "Processing time" inside the open transaction (its output already in the log,
      // uncommitted), paced to RATE records/s so kills land mid-transaction and the run lasts
      // long enough for every planned kill.
      await new Promise((r) => setTimeout(r, (batch.messages.length / RATE) * 1000));
      await txn.sendOffsets({
        consumerGroupId: 'chaos',
        topics: [
          {
            topic: batch.topic,
            partitions: [{ partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }],
          },
        ],
      });
      await txn.commit();
    } catch {
      process.exit(3);
    }
    for (const m of batch.messages) resolveOffset(m.offset);
    process.stdout.write('COMMITTED\n');
  },
});
