/**
 * FindCoordinator (10), versions 0-6: this single broker coordinates every group and every
 * transactional id. v4+ answers a batch of keys. Difference from Kafka: keys are not checked
 * (an empty group id still finds this broker; JoinGroup then refuses it with INVALID_GROUP_ID).
 */
import type { Handler } from '../server.js';
import type { BrokerNode } from './context.js';

export function findCoordinatorHandler(node: BrokerNode): Handler<10> {
  return (req) => {
    if (req.apiVersion >= 4) {
      return {
        coordinators: req.body.coordinatorKeys.map((key) => ({
          key,
          ...node,
          errorCode: 0,
          errorMessage: null,
        })),
      };
    }
    return { errorCode: 0, errorMessage: null, ...node };
  };
}
