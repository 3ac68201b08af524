/**
 * AddOffsetsToTxn (API key 25), versions 0-4: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { f, message } from '../schema.js';

export const AddOffsetsToTxnRequest = message('AddOffsetsToTxnRequest', 25, 'request', '3+', [
  f('transactionalId', 'string', '0+'),
  f('producerId', 'int64', '0+'),
  f('producerEpoch', 'int16', '0+'),
  f('groupId', 'string', '0+'),
]);

export const AddOffsetsToTxnResponse = message('AddOffsetsToTxnResponse', 25, 'response', '3+', [
  f('throttleTimeMs', 'int32', '0+'),
  f('errorCode', 'int16', '0+'),
]);
