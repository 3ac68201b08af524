/**
 * JoinGroup (11), versions 0-9, classic protocol: see group-coordinator.ts. From v4 a new
 * dynamic member first gets MEMBER_ID_REQUIRED with its id (KIP-394). v9's skipAssignment is
 * always false (no server-side assignors).
 */
import type { Handler } from '../server.js';
import type { GroupHandlerContext } from './context.js';

export function joinGroupHandler(ctx: GroupHandlerContext): Handler<11> {
  return async (req, conn) => {
    const b = req.body;
    const r = await ctx.coordinator.join({
      groupId: b.groupId,
      memberId: b.memberId,
      groupInstanceId: b.groupInstanceId,
      clientId: req.clientId ?? '',
      clientHost: `/${conn.remoteAddress.replace(/^::ffff:/, '')}`,
      sessionTimeoutMs: b.sessionTimeoutMs,
      rebalanceTimeoutMs: b.rebalanceTimeoutMs,
      protocolType: b.protocolType,
      protocols: b.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
      requireKnownMemberId: req.apiVersion >= 4,
    });
    return {
      errorCode: r.errorCode,
      generationId: r.generationId,
      protocolType: r.protocolType,
      // Before v7 the protocol name is not nullable.
      protocolName: r.protocolName ?? (req.apiVersion >= 7 ? null : ''),
      leader: r.leader,
      memberId: r.memberId,
      members: r.members,
    };
  };
}
