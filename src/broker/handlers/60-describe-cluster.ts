/** DescribeCluster (60), versions 0-1: this broker is the cluster and its controller. */
import { ErrorCode } from '../../protocol/index.js';
import type { Cluster } from '../cluster.js';
import type { Handler } from '../server.js';

export function describeClusterHandler(cluster: Cluster): Handler<60> {
  return (req) => {
    const n = cluster.node;
    if (req.apiVersion >= 1 && req.body.endpointType !== 1) {
      return {
        errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: 'only broker endpoints',
        endpointType: req.body.endpointType,
        clusterId: cluster.clusterId,
      };
    }
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      endpointType: 1,
      clusterId: cluster.clusterId,
      controllerId: n.nodeId,
      brokers: [{ brokerId: n.nodeId, host: n.host, port: n.port, rack: null }],
    };
  };
}
