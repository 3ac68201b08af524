/**
 * The `kafka` transport: Transport on @confluentinc/kafka-javascript (librdkafka 2.x), for any
 * real cluster (Apache Kafka, Redpanda, MSK, Confluent Cloud) and for Sluice's own broker over
 * TCP. Each GroupConsumer, PartitionReader and Producer is its own librdkafka client (its own
 * connections and threads) and is closed by its owner; the transport owns only the Admin
 * client, closed by close().
 *
 * librdkafka settings and their reasons are in config.ts (latency), group-consumer.ts
 * (rebalance callbacks inside poll), partition-reader.ts (position past transaction markers)
 * and producer.ts (delivery reports, transactions).
 */
import { SluiceError } from '../../common/index.js';
import type {
  GroupConsumer,
  GroupConsumerOptions,
  PartitionReader,
  PartitionReaderOptions,
  Producer,
  ProducerOptions,
  Transport,
} from '../types.js';
import { KafkaAdmin } from './admin.js';
import type { KafkaConnectionOptions } from './config.js';
import { KafkaGroupConsumer } from './group-consumer.js';
import { KafkaPartitionReader } from './partition-reader.js';
import { KafkaProducer } from './producer.js';

export {
  type KafkaConnectionOptions,
  type KafkaSasl,
  rdkafkaConnectionConfig,
  SASL_MECHANISM_CHOICES,
  type SaslMechanismChoice,
} from './config.js';

export type KafkaTransportOptions = KafkaConnectionOptions;

export class KafkaTransport implements Transport {
  readonly kind = 'kafka' as const;
  readonly description: string;
  readonly admin: KafkaAdmin;
  private closed = false;

  constructor(private readonly options: KafkaTransportOptions) {
    if (typeof options.bootstrap !== 'string' || options.bootstrap.trim() === '')
      throw new SluiceError(
        'INVALID_CONFIG',
        'kafka transport: bootstrap servers are required (host:port[,…])',
      );
    this.description = options.bootstrap;
    this.admin = new KafkaAdmin(options);
  }

  private checkOpen(what: string): void {
    if (this.closed) throw new SluiceError('CLOSED', `${what}: the Kafka transport is closed`);
  }

  groupConsumer(options: GroupConsumerOptions): GroupConsumer {
    this.checkOpen('groupConsumer');
    return new KafkaGroupConsumer(this.options, options);
  }

  partitionReader(options?: PartitionReaderOptions): PartitionReader {
    this.checkOpen('partitionReader');
    return new KafkaPartitionReader(this.options, options);
  }

  producer(options?: ProducerOptions): Producer {
    this.checkOpen('producer');
    return new KafkaProducer(this.options, options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.admin.close();
  }
}

export function createKafkaTransport(options: KafkaTransportOptions): KafkaTransport {
  return new KafkaTransport(options);
}
