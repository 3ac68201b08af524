/**
 * The table of Kafka APIs Sluice speaks: key, name, the version range it supports (what the
 * broker advertises in ApiVersions) and the request and response definitions.
 *
 * Ranges: Kafka's own ranges, capped where a later version changes semantics the broker
 * does not implement yet. Produce 3-10 and Fetch 4-16: below those, clients send the old
 * message formats (v0/v1) that Kafka 4 also dropped; Produce 11 is transactions v2 and Fetch 17
 * adds KRaft replica directories. Fetch 13+ names topics by id. ListOffsets stops at 8 (9+ is
 * tiered storage).
 * The transaction APIs (24-28, 61, 65, 66) are defined for the next issue.
 */

import { AddOffsetsToTxnRequest, AddOffsetsToTxnResponse } from './messages/add-offsets-to-txn.js';
import { AddPartitionsToTxnRequest, AddPartitionsToTxnResponse } from './messages/add-partitions-to-txn.js';
import { AlterConfigsRequest, AlterConfigsResponse } from './messages/alter-configs.js';
import { ApiVersionsRequest, ApiVersionsResponse } from './messages/api-versions.js';
import { CreatePartitionsRequest, CreatePartitionsResponse } from './messages/create-partitions.js';
import { CreateTopicsRequest, CreateTopicsResponse } from './messages/create-topics.js';
import { DeleteGroupsRequest, DeleteGroupsResponse } from './messages/delete-groups.js';
import { DeleteRecordsRequest, DeleteRecordsResponse } from './messages/delete-records.js';
import { DeleteTopicsRequest, DeleteTopicsResponse } from './messages/delete-topics.js';
import { DescribeClusterRequest, DescribeClusterResponse } from './messages/describe-cluster.js';
import { DescribeConfigsRequest, DescribeConfigsResponse } from './messages/describe-configs.js';
import { DescribeGroupsRequest, DescribeGroupsResponse } from './messages/describe-groups.js';
import { DescribeProducersRequest, DescribeProducersResponse } from './messages/describe-producers.js';
import {
  DescribeTransactionsRequest,
  DescribeTransactionsResponse,
} from './messages/describe-transactions.js';
import { EndTxnRequest, EndTxnResponse } from './messages/end-txn.js';
import { FetchRequest, FetchResponse } from './messages/fetch.js';
import { FindCoordinatorRequest, FindCoordinatorResponse } from './messages/find-coordinator.js';
import { HeartbeatRequest, HeartbeatResponse } from './messages/heartbeat.js';
import {
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
} from './messages/incremental-alter-configs.js';
import { InitProducerIdRequest, InitProducerIdResponse } from './messages/init-producer-id.js';
import { JoinGroupRequest, JoinGroupResponse } from './messages/join-group.js';
import { LeaveGroupRequest, LeaveGroupResponse } from './messages/leave-group.js';
import { ListGroupsRequest, ListGroupsResponse } from './messages/list-groups.js';
import { ListOffsetsRequest, ListOffsetsResponse } from './messages/list-offsets.js';
import { ListTransactionsRequest, ListTransactionsResponse } from './messages/list-transactions.js';
import { MetadataRequest, MetadataResponse } from './messages/metadata.js';
import { OffsetCommitRequest, OffsetCommitResponse } from './messages/offset-commit.js';
import { OffsetDeleteRequest, OffsetDeleteResponse } from './messages/offset-delete.js';
import { OffsetFetchRequest, OffsetFetchResponse } from './messages/offset-fetch.js';
import { ProduceRequest, ProduceResponse } from './messages/produce.js';
import { SaslAuthenticateRequest, SaslAuthenticateResponse } from './messages/sasl-authenticate.js';
import { SaslHandshakeRequest, SaslHandshakeResponse } from './messages/sasl-handshake.js';
import { SyncGroupRequest, SyncGroupResponse } from './messages/sync-group.js';
import { TxnOffsetCommitRequest, TxnOffsetCommitResponse } from './messages/txn-offset-commit.js';
import { WriteTxnMarkersRequest, WriteTxnMarkersResponse } from './messages/write-txn-markers.js';
import type { BodyOf, InputOf, MessageDef } from './schema.js';

export interface ApiDef<Req extends MessageDef = MessageDef, Res extends MessageDef = MessageDef> {
  readonly key: number;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly request: Req;
  readonly response: Res;
}

function api<Req extends MessageDef, Res extends MessageDef>(
  name: string,
  key: number,
  minVersion: number,
  maxVersion: number,
  request: Req,
  response: Res,
): ApiDef<Req, Res> {
  return { key, name, minVersion, maxVersion, request, response };
}

/** Every API Sluice supports, by key: the one table of supported versions. */
export const APIS = {
  0: api('Produce', 0, 3, 10, ProduceRequest, ProduceResponse),
  1: api('Fetch', 1, 4, 16, FetchRequest, FetchResponse),
  2: api('ListOffsets', 2, 0, 8, ListOffsetsRequest, ListOffsetsResponse),
  3: api('Metadata', 3, 0, 12, MetadataRequest, MetadataResponse),
  8: api('OffsetCommit', 8, 0, 9, OffsetCommitRequest, OffsetCommitResponse),
  9: api('OffsetFetch', 9, 0, 9, OffsetFetchRequest, OffsetFetchResponse),
  10: api('FindCoordinator', 10, 0, 6, FindCoordinatorRequest, FindCoordinatorResponse),
  11: api('JoinGroup', 11, 0, 9, JoinGroupRequest, JoinGroupResponse),
  12: api('Heartbeat', 12, 0, 4, HeartbeatRequest, HeartbeatResponse),
  13: api('LeaveGroup', 13, 0, 5, LeaveGroupRequest, LeaveGroupResponse),
  14: api('SyncGroup', 14, 0, 5, SyncGroupRequest, SyncGroupResponse),
  15: api('DescribeGroups', 15, 0, 5, DescribeGroupsRequest, DescribeGroupsResponse),
  16: api('ListGroups', 16, 0, 5, ListGroupsRequest, ListGroupsResponse),
  17: api('SaslHandshake', 17, 0, 1, SaslHandshakeRequest, SaslHandshakeResponse),
  18: api('ApiVersions', 18, 0, 4, ApiVersionsRequest, ApiVersionsResponse),
  19: api('CreateTopics', 19, 0, 7, CreateTopicsRequest, CreateTopicsResponse),
  20: api('DeleteTopics', 20, 0, 6, DeleteTopicsRequest, DeleteTopicsResponse),
  21: api('DeleteRecords', 21, 0, 2, DeleteRecordsRequest, DeleteRecordsResponse),
  22: api('InitProducerId', 22, 0, 5, InitProducerIdRequest, InitProducerIdResponse),
  24: api('AddPartitionsToTxn', 24, 0, 5, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse),
  25: api('AddOffsetsToTxn', 25, 0, 4, AddOffsetsToTxnRequest, AddOffsetsToTxnResponse),
  26: api('EndTxn', 26, 0, 5, EndTxnRequest, EndTxnResponse),
  27: api('WriteTxnMarkers', 27, 0, 1, WriteTxnMarkersRequest, WriteTxnMarkersResponse),
  28: api('TxnOffsetCommit', 28, 0, 4, TxnOffsetCommitRequest, TxnOffsetCommitResponse),
  32: api('DescribeConfigs', 32, 0, 4, DescribeConfigsRequest, DescribeConfigsResponse),
  33: api('AlterConfigs', 33, 0, 2, AlterConfigsRequest, AlterConfigsResponse),
  36: api('SaslAuthenticate', 36, 0, 2, SaslAuthenticateRequest, SaslAuthenticateResponse),
  37: api('CreatePartitions', 37, 0, 3, CreatePartitionsRequest, CreatePartitionsResponse),
  42: api('DeleteGroups', 42, 0, 2, DeleteGroupsRequest, DeleteGroupsResponse),
  44: api(
    'IncrementalAlterConfigs',
    44,
    0,
    1,
    IncrementalAlterConfigsRequest,
    IncrementalAlterConfigsResponse,
  ),
  47: api('OffsetDelete', 47, 0, 0, OffsetDeleteRequest, OffsetDeleteResponse),
  60: api('DescribeCluster', 60, 0, 1, DescribeClusterRequest, DescribeClusterResponse),
  61: api('DescribeProducers', 61, 0, 0, DescribeProducersRequest, DescribeProducersResponse),
  65: api('DescribeTransactions', 65, 0, 0, DescribeTransactionsRequest, DescribeTransactionsResponse),
  66: api('ListTransactions', 66, 0, 1, ListTransactionsRequest, ListTransactionsResponse),
} as const;

export type Apis = typeof APIS;
export type ApiKey = keyof Apis;

/** Decoded request body of an API (every field present). */
export type RequestBody<K extends ApiKey> = BodyOf<Apis[K]['request']>;
/** Decoded response body of an API. */
export type ResponseBody<K extends ApiKey> = BodyOf<Apis[K]['response']>;
/** Request body to encode (fields may be left out: defaults are written). */
export type RequestInput<K extends ApiKey> = InputOf<Apis[K]['request']>;
/** Response body to encode (fields may be left out; records may be lists of chunks). */
export type ResponseInput<K extends ApiKey> = InputOf<Apis[K]['response']>;

/** The supported APIs in key order, e.g. for an ApiVersions response. */
export const SUPPORTED_APIS: readonly ApiDef[] = Object.values(APIS as Record<number, ApiDef>).sort(
  (a, b) => a.key - b.key,
);

const byKey: (ApiDef | undefined)[] = [];
for (const a of SUPPORTED_APIS) byKey[a.key] = a;

/** The API with this key, or undefined when Sluice does not support it. */
export function apiByKey(key: number): ApiDef | undefined {
  return key >= 0 ? byKey[key] : undefined;
}
