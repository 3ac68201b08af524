/**
 * SaslAuthenticate (API key 36), versions 0-2: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { f, message } from '../schema.js';

export const SaslAuthenticateRequest = message('SaslAuthenticateRequest', 36, 'request', '2+', [
  f('authBytes', 'bytes', '0+'),
]);

export const SaslAuthenticateResponse = message('SaslAuthenticateResponse', 36, 'response', '2+', [
  f('errorCode', 'int16', '0+'),
  f('errorMessage', 'string', '0+', { nullable: '0+' }),
  f('authBytes', 'bytes', '0+'),
  f('sessionLifetimeMs', 'int64', '1+', { default: 0, ignorable: true }),
]);
