/** The StreamRuntime suite on the kafka transport: librdkafka over TCP to a Sluice broker. */
import { createKafkaTransport } from '../../../src/transport/index.js';
import { runtimeSuite } from './runtime-suite.js';

runtimeSuite('kafka', (tb) => createKafkaTransport({ bootstrap: `127.0.0.1:${tb.broker.address.port}` }));
