/**
 * The embedded transport: the Transport contract (types.ts) over a running Broker in the same
 * process, calling its request handlers directly (no TCP, no request encoding). Every client
 * gets its own in-process connection; the Admin and the topic-id cache are shared. Closing the
 * transport closes the Admin's connection only: clients are closed by their owners, and the
 * broker by whoever started it.
 */

import type { Broker } from '../../broker/index.js';
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
import { EmbeddedAdmin } from './admin.js';
import { InProcessConnection } from './connection.js';
import { EmbeddedGroupConsumer } from './consumer.js';
import { EmbeddedProducer } from './producer.js';
import { EmbeddedPartitionReader } from './reader.js';

export class EmbeddedTransport implements Transport {
  readonly kind = 'embedded' as const;
  readonly description = 'embedded';
  readonly admin: EmbeddedAdmin;
  private readonly adminConn: InProcessConnection;
  private closed = false;

  constructor(private readonly broker: Broker) {
    this.adminConn = new InProcessConnection(broker, 'sluice-embedded-admin');
    this.admin = new EmbeddedAdmin(this.adminConn);
  }

  private connection(clientId: string | undefined, kind: string): InProcessConnection {
    if (this.closed) throw new SluiceError('CLOSED', 'embedded transport is closed');
    return new InProcessConnection(this.broker, clientId ?? `sluice-embedded-${kind}`);
  }

  groupConsumer(options: GroupConsumerOptions): GroupConsumer {
    return new EmbeddedGroupConsumer(this.connection(options.clientId, 'consumer'), this.admin, options);
  }

  partitionReader(options: PartitionReaderOptions = {}): PartitionReader {
    return new EmbeddedPartitionReader(this.connection(options.clientId, 'reader'), this.admin, options);
  }

  producer(options: ProducerOptions = {}): Producer {
    return new EmbeddedProducer(this.connection(options.clientId, 'producer'), options);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.adminConn.close();
  }
}

/** A transport over `broker`, in-process. */
export function createEmbeddedTransport(broker: Broker): Transport {
  return new EmbeddedTransport(broker);
}
