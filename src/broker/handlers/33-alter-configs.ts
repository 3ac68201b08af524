/**
 * AlterConfigs (33), versions 0-2, for topics: replaces all of a topic's overrides (keys left
 * out return to their defaults); the log validates keys and values (INVALID_CONFIG).
 * Difference from Kafka: broker resources cannot be altered.
 */
import { ErrorCode } from '../../protocol/index.js';
import type { Cluster } from '../cluster.js';
import type { Handler } from '../server.js';

const TOPIC = 2;

export function alterConfigsHandler(cluster: Cluster): Handler<33> {
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
      const d = cluster.describeTopic(r.resourceName);
      if (d === undefined) {
        return {
          ...base,
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: `topic '${r.resourceName}' does not exist`,
        };
      }
      // Replace: every current override not in the request is removed (null deletes).
      const next: Record<string, unknown> = {};
      for (const k of Object.keys(d.overrides)) next[k] = null;
      for (const c of r.configs) next[c.name] = c.value;
      return { ...base, ...cluster.alterTopicConfig(r.resourceName, next, req.body.validateOnly) };
    }),
  });
}
