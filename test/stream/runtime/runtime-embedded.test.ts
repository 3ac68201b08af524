/** The StreamRuntime suite on the embedded transport (the broker's handlers, no TCP). */
import { createEmbeddedTransport } from '../../../src/transport/index.js';
import { runtimeSuite } from './runtime-suite.js';

runtimeSuite('embedded', (tb) => createEmbeddedTransport(tb.broker));
