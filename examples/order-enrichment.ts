/**
 * Example: enrichment of orders against a customer table. The `customers` changelog is
 * materialized as a table (latest row per customer id, null deletes); each order is joined
 * with its customer's row at the moment it is processed, then priced through an async
 * (simulated remote) currency service with bounded concurrency and a timeout. Orders of unknown
 * customers go to `unmatched-orders`. Run: node --import tsx examples/order-enrichment.ts
 */
import { StreamApp, TestDriver } from '../src/stream/index.js';

export interface Customer {
  id: string;
  name: string;
  country: string;
  currency: string;
}

export interface Order {
  orderId: number;
  customerId: string;
  amount: number;
}

export interface EnrichedOrder {
  orderId: number;
  customer: string;
  country: string;
  amount: number;
  currency: string;
  amountEur: number;
}

export const RATES: Record<string, number> = { EUR: 1, USD: 0.92, GBP: 1.17 };

/** Stands in for an HTTP call. */
export async function rateService(currency: string): Promise<number> {
  await new Promise((r) => setTimeout(r, 1 + Math.floor(Math.random() * 5)));
  const rate = RATES[currency];
  if (rate === undefined) throw new Error(`no rate for ${currency}`);
  return rate;
}

export function enrichmentApp() {
  const app = new StreamApp('order-enrichment');
  const customers = app.table<Customer, string>('customers', { key: (c) => c.id });
  const orders = app.stream<Order>('orders').keyBy((o) => o.customerId);
  const { matched, unmatched } = orders
    .leftJoin(customers, (o, c) => ({ order: o, customer: c ?? undefined }))
    .branch({ matched: (j) => j.customer !== undefined, unmatched: () => true });
  const enriched = matched
    .mapAsync(
      async ({ order, customer }) => {
        const c = customer as Customer;
        const rate = await rateService(c.currency);
        return {
          orderId: order.orderId,
          customer: c.name,
          country: c.country,
          amount: order.amount,
          currency: c.currency,
          amountEur: Math.round(order.amount * rate * 100) / 100,
        } satisfies EnrichedOrder;
      },
      { concurrency: 4, timeoutMs: 1_000, retries: 2 },
    )
    .to('enriched-orders');
  const misses = unmatched.map((j) => j.order).to('unmatched-orders');
  return { app, enriched, misses };
}

export const sampleCustomers: Customer[] = [
  { id: 'c1', name: 'Ada', country: 'UK', currency: 'GBP' },
  { id: 'c2', name: 'Linus', country: 'FI', currency: 'EUR' },
  { id: 'c3', name: 'Grace', country: 'US', currency: 'USD' },
  { id: 'c4', name: 'Nobody', country: 'XX', currency: 'XXX' },
];

export const sampleOrders: Order[] = [
  { orderId: 1, customerId: 'c1', amount: 100 },
  { orderId: 2, customerId: 'c3', amount: 250 },
  { orderId: 3, customerId: 'c9', amount: 10 },
  { orderId: 4, customerId: 'c2', amount: 40 },
  { orderId: 5, customerId: 'c4', amount: 5 },
];

export async function runEnrichmentExample() {
  const { app, enriched, misses } = enrichmentApp();
  const driver = new TestDriver(app);
  for (const c of sampleCustomers) driver.input<Customer>('customers').pipe(c);
  for (const o of sampleOrders) driver.input<Order>('orders').pipe(o);
  await driver.settle();
  return {
    enriched: driver.output(enriched).values(),
    unmatched: driver.output(misses).values(),
    deadLetters: driver.deadLetters(),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runEnrichmentExample();
  for (const e of r.enriched) console.log(JSON.stringify(e));
  console.log('unmatched:', JSON.stringify(r.unmatched));
  console.log('dead letters:', r.deadLetters.map((d) => `${d.kind}: ${d.reason}`).join('; '));
}
