/**
 * The shared transport suite on the embedded transport, over a broker started here (port 0,
 * temporary directory, short group timeouts).
 */
import { createEmbeddedTransport } from '../../src/transport/index.js';
import { startTestBroker } from './broker-fixture.js';
import { transportSuite } from './suite.js';

transportSuite('embedded', async () => {
  const b = await startTestBroker();
  const transport = createEmbeddedTransport(b.broker);
  return {
    transport,
    close: async () => {
      await transport.close();
      await b.close();
    },
  };
});
