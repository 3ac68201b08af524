/**
 * InitProducerId (API key 22), versions 0-5: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { f, message } from '../schema.js';

export const InitProducerIdRequest = message('InitProducerIdRequest', 22, 'request', '2+', [
  f('transactionalId', 'string', '0+', { nullable: '0+' }),
  f('transactionTimeoutMs', 'int32', '0+'),
  f('producerId', 'int64', '3+', { default: -1 }),
  f('producerEpoch', 'int16', '3+', { default: -1 }),
]);

export const InitProducerIdResponse = message('InitProducerIdResponse', 22, 'response', '2+', [
  f('throttleTimeMs', 'int32', '0+', { ignorable: true }),
  f('errorCode', 'int16', '0+'),
  f('producerId', 'int64', '0+', { default: -1 }),
  f('producerEpoch', 'int16', '0+'),
]);
