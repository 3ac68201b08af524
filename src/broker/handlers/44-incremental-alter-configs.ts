/**
 * IncrementalAlterConfigs (44), versions 0-1, for topics: SET (0) and DELETE (1) of single keys.
 * APPEND and SUBTRACT (list-valued configs) are refused with INVALID_CONFIG.
 * Difference from Kafka: broker resources cannot be altered.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Cluster } from '../cluster.js';
import type { Handler } from '../server.js';

const TOPIC = 2;

export function incrementalAlterConfigsHandler(cluster: Cluster): Handler<44> {
  return (req) => ({
    throttleTimeMs: 0,
    responses: req.body.resources.map((r) => {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      if (r.resourceType !== TOPIC) {
        return {
          ...base,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: `resource type ${r.resourceType} cannot be altered`,
        };
      }
      const changes: Record<string, unknown> = {};
      for (const c of r.configs) {
        if (c.configOperation === 0) changes[c.name] = c.value;
        else if (c.configOperation === 1) changes[c.name] = null;
        else
          return {
            ...base,
            errorCode: ErrorCode.INVALID_CONFIG,
            errorMessage: `operation ${c.configOperation} on ${c.name} is not supported`,
          };
      }
      return { ...base, ...cluster.alterTopicConfig(r.resourceName, changes, req.body.validateOnly) };
    }),
  });
}
