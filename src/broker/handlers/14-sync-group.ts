/** SyncGroup (14), versions 0-5: see group-coordinator.ts. */
import type { Handler } from '../server.js';
import type { GroupHandlerContext } from './context.js';

export function syncGroupHandler(ctx: GroupHandlerContext): Handler<14> {
  return async (req) => {
    const b = req.body;
    const r = await ctx.coordinator.sync({
      groupId: b.groupId,
      generationId: b.generationId,
      memberId: b.memberId,
      groupInstanceId: b.groupInstanceId,
      protocolType: b.protocolType,
      protocolName: b.protocolName,
      assignments: b.assignments.map((a) => ({
        memberId: a.memberId,
        assignment: Buffer.from(a.assignment),
      })),
    });
    return r;
  };
}
