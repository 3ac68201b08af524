/**
 * DescribeConfigs (API key 32), versions 0-4: request and response fields.
 * Field names, types and version ranges follow Apache Kafka's message definitions.
 */
import { arr, f, message } from '../schema.js';

export const DescribeConfigsRequest = message('DescribeConfigsRequest', 32, 'request', '4+', [
  arr('resources', '0+', [
    f('resourceType', 'int8', '0+'),
    f('resourceName', 'string', '0+'),
    f('configurationKeys', '[]string', '0+', { nullable: '0+' }),
  ]),
  f('includeSynonyms', 'bool', '1+', { default: false }),
  f('includeDocumentation', 'bool', '3+', { default: false }),
]);

export const DescribeConfigsResponse = message('DescribeConfigsResponse', 32, 'response', '4+', [
  f('throttleTimeMs', 'int32', '0+'),
  arr('results', '0+', [
    f('errorCode', 'int16', '0+'),
    f('errorMessage', 'string', '0+', { nullable: '0+' }),
    f('resourceType', 'int8', '0+'),
    f('resourceName', 'string', '0+'),
    arr('configs', '0+', [
      f('name', 'string', '0+'),
      f('value', 'string', '0+', { nullable: '0+' }),
      f('readOnly', 'bool', '0+'),
      f('isDefault', 'bool', '0'),
      f('configSource', 'int8', '1+', { default: -1, ignorable: true }),
      f('isSensitive', 'bool', '0+'),
      arr(
        'synonyms',
        '1+',
        [
          f('name', 'string', '1+'),
          f('value', 'string', '1+', { nullable: '0+' }),
          f('source', 'int8', '1+'),
        ],
        { ignorable: true },
      ),
      f('configType', 'int8', '3+', { default: 0, ignorable: true }),
      f('documentation', 'string', '3+', { nullable: '0+', ignorable: true }),
    ]),
  ]),
]);
