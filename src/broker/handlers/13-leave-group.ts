/** LeaveGroup (13), versions 0-5: one member before v3, a batch (with instance ids) from v3. */
import type { Handler } from '../server.js';
import type { GroupHandlerContext } from './context.js';

export function leaveGroupHandler(ctx: GroupHandlerContext): Handler<13> {
  return (req) => {
    const b = req.body;
    if (req.apiVersion < 3) {
      const [code] = ctx.coordinator.leave(b.groupId, [{ memberId: b.memberId, groupInstanceId: null }]);
      return { errorCode: code ?? 0 };
    }
    const codes = ctx.coordinator.leave(b.groupId, b.members);
    return {
      errorCode: 0,
      members: b.members.map((m, i) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        errorCode: codes[i] ?? 0,
      })),
    };
  };
}
