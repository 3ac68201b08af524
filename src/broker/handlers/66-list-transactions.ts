/**
 * ListTransactions (66), versions 0-1: transactional ids filtered by state names, producer
 * ids and (v1) a minimum running duration; unknown state names are echoed back.
 */
import type { Handler } from '../server.js';
import { TXN_STATE_NAMES, TxnState } from '../txn/state-machine.js';
import type { TxnHandlerContext } from './txn-context.js';

const KNOWN = new Set(Object.values(TXN_STATE_NAMES));

export function listTransactionsHandler(ctx: TxnHandlerContext): Handler<66> {
  return (req) => {
    const b = req.body;
    const states = new Set(b.stateFilters);
    const pids = new Set(b.producerIdFilters.map(Number));
    const now = Date.now();
    const minDuration = req.apiVersion >= 1 ? b.durationFilter : -1;
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      unknownStateFilters: b.stateFilters.filter((s) => !KNOWN.has(s)),
      transactionStates: ctx.txn
        .list()
        .filter((m) => states.size === 0 || states.has(TXN_STATE_NAMES[m.state]))
        .filter((m) => pids.size === 0 || pids.has(m.producerId))
        .filter(
          (m) =>
            minDuration < 0 || (m.state === TxnState.Ongoing && now - m.txnStartTimestamp >= minDuration),
        )
        .map((m) => ({
          transactionalId: m.transactionalId,
          producerId: m.producerId,
          transactionState: TXN_STATE_NAMES[m.state],
        })),
    };
  };
}
