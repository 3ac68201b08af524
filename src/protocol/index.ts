/**
 * protocol/: the Kafka wire format as bytes. No sockets, no files, no timers.
 * This is the module's public face; other modules import only from here.
 */
export { ByteReader, ByteWriter } from './primitives.js';
