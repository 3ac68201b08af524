/**
 * ListGroups (16), versions 0-5: groups with members or committed offsets. v4 filters by
 * state, v5 by type (all groups here are 'classic').
 */
import type { Handler } from '../server.js';
import type { GroupHandlerContext } from './context.js';

export function listGroupsHandler(ctx: GroupHandlerContext): Handler<16> {
  return (req) => {
    const seen = new Map<
      string,
      { groupId: string; protocolType: string; groupState: string; groupType: string }
    >();
    for (const g of ctx.coordinator.list()) {
      seen.set(g.groupId, {
        groupId: g.groupId,
        protocolType: g.protocolType,
        groupState: g.state,
        groupType: 'classic',
      });
    }
    for (const groupId of ctx.offsets.groups()) {
      if (!seen.has(groupId))
        seen.set(groupId, { groupId, protocolType: 'consumer', groupState: 'Empty', groupType: 'classic' });
    }
    const states = new Set(req.body.statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(req.body.typesFilter.map((s) => s.toLowerCase()));
    const groups = [...seen.values()].filter(
      (g) =>
        (states.size === 0 || states.has(g.groupState.toLowerCase())) &&
        (types.size === 0 || types.has(g.groupType)),
    );
    return { errorCode: 0, groups };
  };
}
