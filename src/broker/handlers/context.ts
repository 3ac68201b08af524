/**
 * What the group handlers need from the rest of the broker: this broker's identity (it is
 * the coordinator of every group), the group coordinator, the offset store and a way to tell
 * whether a topic partition exists.
 */
import type { GroupCoordinator } from '../group-coordinator.js';
import type { OffsetStore } from '../offset-store.js';

export interface BrokerNode {
  nodeId: number;
  host: string;
  port: number;
}

export interface GroupHandlerContext {
  node: BrokerNode;
  coordinator: GroupCoordinator;
  offsets: OffsetStore;
  partitionExists(topic: string, partition: number): boolean;
}
