/** The handler table for group coordination and committed offsets. */
import type { HandlerTable } from '../server.js';
import { offsetCommitHandler } from './08-offset-commit.js';
import { offsetFetchHandler } from './09-offset-fetch.js';
import { findCoordinatorHandler } from './10-find-coordinator.js';
import { joinGroupHandler } from './11-join-group.js';
import { heartbeatHandler } from './12-heartbeat.js';
import { leaveGroupHandler } from './13-leave-group.js';
import { syncGroupHandler } from './14-sync-group.js';
import { describeGroupsHandler } from './15-describe-groups.js';
import { listGroupsHandler } from './16-list-groups.js';
import { deleteGroupsHandler } from './42-delete-groups.js';
import { offsetDeleteHandler } from './47-offset-delete.js';
import type { GroupHandlerContext } from './context.js';

export function groupHandlers(ctx: GroupHandlerContext): HandlerTable {
  return {
    8: offsetCommitHandler(ctx),
    9: offsetFetchHandler(ctx),
    10: findCoordinatorHandler(ctx.node),
    11: joinGroupHandler(ctx),
    12: heartbeatHandler(ctx),
    13: leaveGroupHandler(ctx),
    14: syncGroupHandler(ctx),
    15: describeGroupsHandler(ctx),
    16: listGroupsHandler(ctx),
    42: deleteGroupsHandler(ctx),
    47: offsetDeleteHandler(ctx),
  };
}
