/**
 * ApiVersions (18), versions 0-4.
 *
 * Advertises exactly the APIs this server has handlers for, each at Sluice's supported range
 * (protocol/'s APIS table). A request at a version above ours is answered by the server with
 * a v0 response carrying UNSUPPORTED_VERSION and the list (KIP-511), so the client can retry
 * at a version we speak; that path is `unsupportedApiVersionsResponse`.
 * Differences from Kafka: no feature flags (SupportedFeatures/FinalizedFeatures are empty).
 */
import { ErrorCode, type ResponseInput } from '../../protocol/index.js';

export interface ApiRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export function apiVersionsResponse(apis: readonly ApiRange[]): ResponseInput<18> {
  return { errorCode: 0, apiKeys: apis.map((a) => ({ ...a })), throttleTimeMs: 0 };
}

export function unsupportedApiVersionsResponse(apis: readonly ApiRange[]): ResponseInput<18> {
  return { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: apis.map((a) => ({ ...a })) };
}
