/**
 * Fetching with librdkafka's KafkaConsumer, shared by the group consumer and the partition
 * reader: one `consume(n)` call bounded by the poll's wait, and the conversion of librdkafka
 * messages to IncomingRecords.
 *
 * `consume(n)` runs on a libuv worker thread; the binding's default waits up to the timeout
 * for EACH message, so a poll for 500 records with 100 ms wait could take 50 s on a trickle.
 * `setDefaultIsTimeoutOnlyForFirstMessage(true)` makes it wait for the first record only and
 * then take what is already fetched (1 ms per further message), Kafka's poll semantics.
 *
 * Errors: librdkafka reports per-consume conditions it recovers from by itself (a broker
 * going away, a subscribed topic not created yet); those end the poll with no records instead
 * of failing it. Fatal errors and the consumer being closed are thrown.
 */
import type { KafkaConsumer, Message } from '@confluentinc/kafka-javascript';
import type { IncomingRecord, RecordHeader } from '../types.js';
import { kafkaError, RD, rdCode } from './config.js';

/** Errors consume() reports that librdkafka retries on its own: the poll just returns nothing. */
const TRANSIENT = new Set<number>([
  RD.ERR__TRANSPORT,
  RD.ERR__ALL_BROKERS_DOWN,
  RD.ERR_UNKNOWN_TOPIC_OR_PART,
  RD.ERR__UNKNOWN_TOPIC,
  RD.ERR__UNKNOWN_PARTITION,
  RD.ERR__TIMED_OUT,
  RD.ERR__TIMED_OUT_QUEUE,
  RD.ERR__PARTITION_EOF,
  // The member left the group after max.poll.interval.ms without a poll; librdkafka rejoins
  // and reports the partitions as lost through the rebalance callback (onLost), which is how
  // the caller learns of it.
  RD.ERR__MAX_POLL_EXCEEDED,
  RD.ERR_NOT_LEADER_FOR_PARTITION,
  RD.ERR_LEADER_NOT_AVAILABLE,
]);

type ConsumerWithFirstOnly = KafkaConsumer & { setDefaultIsTimeoutOnlyForFirstMessage(v: boolean): void };

export function waitForFirstOnly(consumer: KafkaConsumer): void {
  (consumer as ConsumerWithFirstOnly).setDefaultIsTimeoutOnlyForFirstMessage(true);
}

/** Up to `max` messages, waiting up to `waitMs` for the first one. */
export function consumeBatch(consumer: KafkaConsumer, max: number, waitMs: number): Promise<Message[]> {
  consumer.setDefaultConsumeTimeout(Math.max(0, Math.floor(waitMs)));
  return new Promise<Message[]>((resolve, reject) => {
    try {
      consumer.consume(Math.max(1, Math.floor(max)), (err, messages) => {
        if (!err) return resolve(messages ?? []);
        const code = rdCode(err);
        const fatal = (err as { isFatal?: boolean }).isFatal === true;
        if (!fatal && code !== undefined && TRANSIENT.has(code)) return resolve([]);
        reject(kafkaError(err, 'poll', 'consumer'));
      });
    } catch (err) {
      reject(kafkaError(err, 'poll', 'consumer'));
    }
  });
}

export function toIncoming(m: Message): IncomingRecord {
  const headers: RecordHeader[] = [];
  if (m.headers !== undefined) {
    for (const h of m.headers) {
      for (const [key, value] of Object.entries(h)) {
        headers.push({ key, value: typeof value === 'string' ? Buffer.from(value) : value });
      }
    }
  }
  const key = m.key;
  return {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    key: key === undefined || key === null ? null : typeof key === 'string' ? Buffer.from(key) : key,
    value: m.value ?? null,
    timestamp: m.timestamp ?? -1,
    headers,
  };
}
