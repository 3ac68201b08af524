/**
 * EndTxn (API key 26), versions 0-5: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { f, message } from '../schema.js';

export const EndTxnRequest = message('EndTxnRequest', 26, 'request', '3+', [
  f('transactionalId', 'string', '0+'),
  f('producerId', 'int64', '0+'),
  f('producerEpoch', 'int16', '0+'),
  f('committed', 'bool', '0+'),
]);

export const EndTxnResponse = message('EndTxnResponse', 26, 'response', '3+', [
  f('throttleTimeMs', 'int32', '0+'),
  f('errorCode', 'int16', '0+'),
  f('producerId', 'int64', '5+', { default: -1, ignorable: true }),
  f('producerEpoch', 'int16', '5+', { default: -1, ignorable: true }),
]);
