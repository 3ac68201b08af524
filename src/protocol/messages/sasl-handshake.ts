/**
 * SaslHandshake (API key 17), versions 0-1: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { f, message } from '../schema.js';

export const SaslHandshakeRequest = message('SaslHandshakeRequest', 17, 'request', 'none', [
  f('mechanism', 'string', '0+'),
]);

export const SaslHandshakeResponse = message('SaslHandshakeResponse', 17, 'response', 'none', [
  f('errorCode', 'int16', '0+'),
  f('mechanisms', '[]string', '0+'),
]);
