/** The handler table for the data plane and topic administration, over a Cluster. */
import type { Cluster } from '../cluster.js';
import type { HandlerTable } from '../server.js';
import type { TransactionCoordinator } from '../txn/coordinator.js';
import { produceHandler } from './00-produce.js';
import { fetchHandler } from './01-fetch.js';
import { listOffsetsHandler } from './02-list-offsets.js';
import { metadataHandler } from './03-metadata.js';
import { createTopicsHandler } from './19-create-topics.js';
import { deleteTopicsHandler } from './20-delete-topics.js';
import { deleteRecordsHandler } from './21-delete-records.js';
import { initProducerIdHandler } from './22-init-producer-id.js';
import { describeConfigsHandler } from './32-describe-configs.js';
import { alterConfigsHandler } from './33-alter-configs.js';
import { createPartitionsHandler } from './37-create-partitions.js';
import { incrementalAlterConfigsHandler } from './44-incremental-alter-configs.js';
import { describeClusterHandler } from './60-describe-cluster.js';

export function clusterHandlers(cluster: Cluster, txn?: TransactionCoordinator): HandlerTable {
  return {
    0: produceHandler(cluster),
    1: fetchHandler(cluster),
    2: listOffsetsHandler(cluster),
    3: metadataHandler(cluster),
    19: createTopicsHandler(cluster),
    20: deleteTopicsHandler(cluster),
    21: deleteRecordsHandler(cluster),
    22: initProducerIdHandler(cluster, txn),
    32: describeConfigsHandler(cluster),
    33: alterConfigsHandler(cluster),
    37: createPartitionsHandler(cluster),
    44: incrementalAlterConfigsHandler(cluster),
    60: describeClusterHandler(cluster),
  };
}
