/**
 * ApiVersions (API key 18), versions 0-4: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const ApiVersionsRequest = message('ApiVersionsRequest', 18, 'request', '3+', [
  f('clientSoftwareName', 'string', '3+', { ignorable: true }),
  f('clientSoftwareVersion', 'string', '3+', { ignorable: true }),
]);

export const ApiVersionsResponse = message('ApiVersionsResponse', 18, 'response', '3+', [
  f('errorCode', 'int16', '0+'),
  arr('apiKeys', '0+', [
    f('apiKey', 'int16', '0+'),
    f('minVersion', 'int16', '0+'),
    f('maxVersion', 'int16', '0+'),
  ]),
  f('throttleTimeMs', 'int32', '1+', { ignorable: true }),
  arr(
    'supportedFeatures',
    '3+',
    [f('name', 'string', '3+'), f('minVersion', 'int16', '3+'), f('maxVersion', 'int16', '3+')],
    { tagged: '3+', tag: 0, ignorable: true },
  ),
  f('finalizedFeaturesEpoch', 'int64', '3+', { tagged: '3+', tag: 1, default: -1, ignorable: true }),
  arr(
    'finalizedFeatures',
    '3+',
    [f('name', 'string', '3+'), f('maxVersionLevel', 'int16', '3+'), f('minVersionLevel', 'int16', '3+')],
    { tagged: '3+', tag: 2, ignorable: true },
  ),
  f('zkMigrationReady', 'bool', '3+', { tagged: '3+', tag: 3, default: false, ignorable: true }),
]);
