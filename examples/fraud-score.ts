/**
 * Example: sliding-window fraud score per customer.
 *
 * Transactions arrive out of order (up to 10 s) from several partitions; a partition that goes
 * quiet for a minute stops holding event time back. Every minute, for each customer, the last
 * five minutes are scored (total spent, weighted by how many distinct merchants); scores over
 * the threshold become alerts. Run: node --import tsx examples/fraud-score.ts
 */
import {
  type AggregateFunction,
  boundedOutOfOrderness,
  StreamApp,
  sliding,
  TestDriver,
} from '../src/stream/index.js';

export interface Txn {
  customer: string;
  merchant: string;
  amount: number;
  ts: number;
}

export interface Score {
  total: number;
  merchants: number;
  score: number;
}

export const THRESHOLD = 5_000;
export const MINUTE = 60_000;

/** Score of a window: total spent × (1 + 0.5 per distinct merchant beyond the first). */
export const fraudScore: AggregateFunction<Txn, { total: number; merchants: Set<string> }, Score> = {
  createAccumulator: () => ({ total: 0, merchants: new Set() }),
  add: (acc, t) => {
    acc.total += t.amount;
    acc.merchants.add(t.merchant);
    return acc;
  },
  merge: (a, b) => {
    a.total += b.total;
    for (const m of b.merchants) a.merchants.add(m);
    return a;
  },
  getResult: (acc) => ({
    total: acc.total,
    merchants: acc.merchants.size,
    score: acc.total * (1 + 0.5 * Math.max(0, acc.merchants.size - 1)),
  }),
};

export function fraudApp() {
  const app = new StreamApp('fraud-scoring');
  const alerts = app
    .stream<Txn>('transactions', {
      partitions: 3,
      timestamp: (t) => t.ts,
      watermark: boundedOutOfOrderness(10_000),
      idleness: MINUTE,
    })
    .keyBy((t) => t.customer)
    .window(sliding(5 * MINUTE, MINUTE))
    .aggregate(fraudScore)
    .filter((w) => w.value.score > THRESHOLD)
    .map((w) => ({ customer: w.key, windowEnd: w.window.end, ...w.value }))
    .to('fraud-alerts');
  return { app, alerts };
}

/** Deterministic sample: ordinary customers, and c7 on a spree from minute 10. */
export function sampleTransactions(): Txn[] {
  const out: Txn[] = [];
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 600; i++) {
    const ts = i * 2_000 - Math.floor(rnd() * 8_000);
    const spree = i >= 300 && i < 360 && i % 2 === 0;
    out.push({
      customer: spree ? 'c7' : `c${Math.floor(rnd() * 6)}`,
      merchant: spree ? `m${i % 5}` : `m${Math.floor(rnd() * 2)}`,
      amount: spree ? 400 : Math.round(rnd() * 50),
      ts: Math.max(0, ts),
    });
  }
  return out;
}

export function runFraudExample(txns = sampleTransactions()) {
  const { app, alerts } = fraudApp();
  const driver = new TestDriver(app, { startTime: 0 });
  const input = driver.input<Txn>('transactions');
  txns.forEach((t, i) => {
    input.pipe(t, { partition: i % 3 });
  });
  driver.end();
  return { alerts: driver.output(alerts).values(), deadLetters: driver.deadLetters() };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { alerts } = runFraudExample();
  for (const a of alerts) console.log(JSON.stringify(a));
}
