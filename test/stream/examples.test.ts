/**
 * Runs the three example pipelines and checks them against independent computations over the
 * same sample data (brute-force windows, plain sessionization, direct lookups).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  fraudScore,
  MINUTE,
  runFraudExample,
  sampleTransactions,
  THRESHOLD,
} from '../../examples/fraud-score.js';
import {
  RATES,
  runEnrichmentExample,
  sampleCustomers,
  sampleOrders,
} from '../../examples/order-enrichment.js';
import { GAP, runClicksExample, sampleClicks } from '../../examples/sessionized-clicks.js';

describe('examples', () => {
  it('fraud-score: alerts equal a brute-force scan of every 5-minute window', () => {
    const txns = sampleTransactions();
    const { alerts, deadLetters } = runFraudExample(txns);
    const expected: string[] = [];
    const customers = [...new Set(txns.map((t) => t.customer))];
    const maxTs = Math.max(...txns.map((t) => t.ts));
    for (let end = MINUTE; end <= maxTs + 5 * MINUTE; end += MINUTE) {
      for (const c of customers) {
        const inWindow = txns.filter((t) => t.customer === c && t.ts >= end - 5 * MINUTE && t.ts < end);
        if (inWindow.length === 0) continue;
        const acc = inWindow.reduce((a, t) => fraudScore.add(a, t), fraudScore.createAccumulator());
        const r = fraudScore.getResult(acc);
        if (r.score > THRESHOLD) expected.push(`${c}@${end}:${r.score}`);
      }
    }
    const got = alerts.map((a) => `${a.customer}@${a.windowEnd}:${a.score}`);
    assert.ok(expected.length > 0, 'the sample contains a spree');
    assert.deepEqual(got.sort(), expected.sort());
    assert.equal(deadLetters.length, 0);
  });

  it('sessionized-clicks: live sessions equal gap sessionization of the on-time clicks', () => {
    const clicks = sampleClicks();
    const { sessions, late } = runClicksExample(clicks);
    assert.equal(late.length, 1);
    const lateTs = new Set(late.map((l) => `${l.key}|${l.timestamp}`));
    const accepted = clicks.filter((c) => !lateTs.has(`${c.user}|${c.ts}`));
    const expected: string[] = [];
    for (const user of new Set(accepted.map((c) => c.user))) {
      const ts = accepted
        .filter((c) => c.user === user)
        .map((c) => c.ts)
        .sort((a, b) => a - b);
      let start = ts[0];
      let count = 1;
      for (let i = 1; i <= ts.length; i++) {
        if (i === ts.length || ts[i] - ts[i - 1] > GAP) {
          expected.push(`${user}|${start}|${ts[i - 1] + GAP}|${count}`);
          start = ts[i];
          count = 1;
        } else count++;
      }
    }
    assert.deepEqual(
      sessions.map((s) => `${s.user}|${s.start}|${s.end}|${s.clicks}`).sort(),
      expected.sort(),
    );
  });

  it('order-enrichment: every order is enriched from its customer row, unmatched, or dead-lettered', async () => {
    const r = await runEnrichmentExample();
    const byId = new Map(sampleCustomers.map((c) => [c.id, c]));
    for (const o of sampleOrders) {
      const c = byId.get(o.customerId);
      const enriched = r.enriched.find((e) => e.orderId === o.orderId);
      if (c === undefined) {
        assert.ok(
          r.unmatched.some((u) => u.orderId === o.orderId),
          `order ${o.orderId} unmatched`,
        );
      } else if (RATES[c.currency] === undefined) {
        assert.ok(
          r.deadLetters.some((d) => d.kind === 'async' && d.reason.includes(c.currency)),
          `order ${o.orderId} dead-lettered`,
        );
      } else {
        assert.deepEqual(enriched, {
          orderId: o.orderId,
          customer: c.name,
          country: c.country,
          amount: o.amount,
          currency: c.currency,
          amountEur: Math.round(o.amount * RATES[c.currency] * 100) / 100,
        });
      }
    }
    assert.deepEqual(
      r.enriched.map((e) => e.orderId),
      sampleOrders
        .filter((o) => RATES[byId.get(o.customerId)?.currency ?? ''] !== undefined)
        .map((o) => o.orderId),
      'ordered async keeps input order',
    );
  });
});
