/** DeleteGroups (42), versions 0-2: deletes groups without members, and their offsets. */
import { ErrorCode } from '../../protocol/index.js';
import type { Handler } from '../server.js';
import type { GroupHandlerContext } from './context.js';

export function deleteGroupsHandler(ctx: GroupHandlerContext): Handler<42> {
  return async (req) => {
    const results = [];
    for (const groupId of req.body.groupsNames) {
      let errorCode = ctx.coordinator.delete(groupId);
      if (errorCode === ErrorCode.GROUP_ID_NOT_FOUND && ctx.offsets.committed(groupId).length > 0)
        errorCode = ErrorCode.NONE;
      if (errorCode === ErrorCode.NONE) await ctx.offsets.deleteGroup(groupId);
      results.push({ groupId, errorCode });
    }
    return { throttleTimeMs: 0, results };
  };
}
