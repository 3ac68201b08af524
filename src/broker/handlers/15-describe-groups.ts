/**
 * DescribeGroups (15), versions 0-5. An unknown group is described as Dead with no members
 * and error NONE, as Kafka does. Authorized operations are not computed (no ACLs).
 */
import type { Handler } from '../server.js';
import type { GroupHandlerContext } from './context.js';

export function describeGroupsHandler(ctx: GroupHandlerContext): Handler<15> {
  return (req) => ({
    groups: req.body.groups.map((groupId) => {
      const d = ctx.coordinator.describe(groupId);
      if (d === undefined) {
        return { errorCode: 0, groupId, groupState: 'Dead', protocolType: '', protocolData: '', members: [] };
      }
      return {
        errorCode: 0,
        groupId,
        groupState: d.state,
        protocolType: d.protocolType,
        protocolData: d.protocol,
        members: d.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: m.metadata,
          memberAssignment: m.assignment,
        })),
      };
    }),
  });
}
