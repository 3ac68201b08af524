/**
 * DescribeConfigs (32), versions 0-4, for topics (resource type 2): the log's effective topic
 * configuration; source TOPIC_CONFIG (1) for overrides, DEFAULT_CONFIG (5) otherwise.
 * Difference from Kafka: broker resources (type 4) describe as empty.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Cluster } from '../cluster.js';
import type { Handler } from '../server.js';

const TOPIC = 2;
const BROKER = 4;

export function describeConfigsHandler(cluster: Cluster): Handler<32> {
  return (req) => ({
    throttleTimeMs: 0,
    results: req.body.resources.map((r) => {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      if (r.resourceType === BROKER) return { ...base, errorCode: 0, errorMessage: null, configs: [] };
      if (r.resourceType !== TOPIC) {
        return {
          ...base,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: `resource type ${r.resourceType} is not supported`,
          configs: [],
        };
      }
      const d = cluster.describeTopic(r.resourceName);
      if (d === undefined) {
        return {
          ...base,
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: `topic '${r.resourceName}' does not exist`,
          configs: [],
        };
      }
      const keys = r.configurationKeys;
      const configs = Object.entries(d.config)
        .filter(([name]) => keys === null || keys.includes(name))
        .map(([name, value]) => {
          const override = name in d.overrides;
          return {
            name,
            value: String(value),
            readOnly: false,
            ...(req.apiVersion === 0 ? { isDefault: !override } : {}),
            configSource: override ? 1 : 5,
            isSensitive: false,
            synonyms: req.body.includeSynonyms
              ? [{ name, value: String(value), source: override ? 1 : 5 }]
              : [],
            configType: typeof value === 'number' ? (Number.isInteger(value) ? 5 : 6) : 2,
            documentation: null,
          };
        });
      return { ...base, errorCode: 0, errorMessage: null, configs };
    }),
  });
}
