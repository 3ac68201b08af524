/**
 * DescribeConfigs (32, versions 0-4), AlterConfigs (33, 0-2), IncrementalAlterConfigs (44, 0-1)
 * for topics (resource type 2). Values are the log's effective topic configuration; sources
 * are TOPIC_CONFIG (1) for overrides and DEFAULT_CONFIG (5) otherwise. AlterConfigs replaces
 * all of a topic's overrides; IncrementalAlterConfigs SETs and DELETEs single keys (APPEND and
 * SUBTRACT, for list-valued configs, are refused with INVALID_CONFIG).
 * Differences from Kafka: broker resources (type 4) describe as empty and cannot be altered.
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
