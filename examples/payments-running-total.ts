/**
 * Example for `sluice run`: a running total per customer over the `payments` topic of the
 * README's tour. Values are JSON `{"customer": "...", "amount": n}`; every payment updates
 * its customer's total (keyed state, changelogged to `payments-totals-totals-changelog`) and
 * emits `{"customer", "total", "payments"}` to `payment-totals`, keyed by customer.
 *
 * The keyBy changes the key, so the records pass through the repartition topic
 * `payments-totals-<operator>-repartition`: every payment of one customer reaches the same
 * task, whichever input partition it was written to. Exactly-once by default: a crash never
 * counts a payment twice in the read_committed output.
 *
 *   node bin/sluice.js run examples/payments-running-total.ts --bootstrap localhost:9092
 */
import { jsonSerde, StreamApp } from '../src/stream/index.js';

interface Payment {
  customer: string;
  amount: number;
}

interface Total {
  customer: string;
  total: number;
  payments: number;
}

export default function paymentsRunningTotal(): StreamApp {
  const app = new StreamApp('payments-totals');
  app
    .stream<Payment>('payments', { partitions: 3, serde: jsonSerde<Payment>() })
    .keyBy((p) => p.customer)
    .process<Total>(
      {
        processElement(p, ctx) {
          const state = ctx.state<{ total: number; payments: number }>('totals');
          const prev = state.get() ?? { total: 0, payments: 0 };
          const next = { total: prev.total + p.amount, payments: prev.payments + 1 };
          state.set(next);
          ctx.emit({ customer: ctx.key, ...next });
        },
      },
      'totals',
    )
    .to('payment-totals', { serde: jsonSerde<Total>() });
  return app;
}
