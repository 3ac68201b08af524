/**
 * The shared transport suite on the kafka transport: librdkafka (@confluentinc/kafka-javascript)
 * over TCP to a Sluice broker started here (port 0, temporary data directory, short group
 * timeouts from broker-fixture.ts).
 *
 * One declared difference: the binding reads a null header value back as an empty Buffer
 * (it writes null faithfully; kafka-impl.test.ts reads it back with kafkajs to check).
 */
import { createKafkaTransport } from '../../src/transport/index.js';
import { startTestBroker } from './broker-fixture.js';
import { transportSuite } from './suite.js';

transportSuite(
  'kafka',
  async () => {
    const b = await startTestBroker();
    const transport = createKafkaTransport({
      bootstrap: `127.0.0.1:${b.broker.address.port}`,
      clientId: 'suite-kafka',
      requestTimeoutMs: 20_000,
    });
    return {
      transport,
      close: async () => {
        await transport.close();
        await b.close();
      },
    };
  },
  { nullHeaderValueReadsEmpty: true },
);
