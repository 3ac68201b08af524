/** Heartbeat (12), versions 0-4: see group-coordinator.ts. */
import type { Handler } from '../server.js';
import type { GroupHandlerContext } from './context.js';

export function heartbeatHandler(ctx: GroupHandlerContext): Handler<12> {
  return (req) => ({
    errorCode: ctx.coordinator.heartbeat(
      req.body.groupId,
      req.body.memberId,
      req.body.generationId,
      req.body.groupInstanceId,
    ),
  });
}
