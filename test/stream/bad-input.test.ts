/**
 * Bad input never stops a pipeline: each bad record goes to the dead letters with its reason
 * and the records around it are processed — the tests check both sides.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamApp, TestDriver, tumbling } from '../../src/stream/index.js';

interface Order {
  id: number;
  qty: number;
  ts: number;
}

const json = {
  deserialize(bytes: Uint8Array): Order {
    return JSON.parse(new TextDecoder().decode(bytes)) as Order;
  },
};
const enc = (o: unknown) => new TextEncoder().encode(typeof o === 'string' ? o : JSON.stringify(o));

describe('dead-letter routing', () => {
  it('a throwing user function dead-letters only that record', () => {
    const app = new StreamApp('bad-fn');
    const out = app
      .stream<Order>('orders', { timestamp: (o) => o.ts })
      .map((o) => {
        if (o.qty === 0) throw new Error(`order ${o.id} has no quantity`);
        return { id: o.id, unit: 100 / o.qty };
      })
      .filter((o) => o.unit > 0)
      .to('out');
    const d = new TestDriver(app, { startTime: 0 });
    d.input<Order>('orders').pipeAll([
      { value: { id: 1, qty: 4, ts: 1 } },
      { value: { id: 2, qty: 0, ts: 2 } },
      { value: { id: 3, qty: 5, ts: 3 } },
    ]);
    assert.deepEqual(
      d
        .output(out)
        .values()
        .map((o) => o.id),
      [1, 3],
      'records before and after the bad one (same batch) are processed',
    );
    const dl = d.deadLetters();
    assert.equal(dl.length, 1);
    assert.equal(dl[0].kind, 'user-function');
    assert.equal(dl[0].reason, 'order 2 has no quantity');
    assert.deepEqual(dl[0].value, { id: 2, qty: 0, ts: 2 }, 'the record as the operator received it');
    assert.match(dl[0].operator, /^map-/);
  });

  it('a record that fails to deserialize is dead-lettered with the raw bytes', () => {
    const app = new StreamApp('bad-bytes');
    const out = app.stream<Order>('orders', { serde: json, timestamp: (o) => o.ts }).to('out');
    const d = new TestDriver(app, { startTime: 0 });
    const input = d.input<Order>('orders');
    input.pipeBytes(enc({ id: 1, qty: 1, ts: 1 }));
    input.pipeBytes(enc('{"id": 2, "qty": '));
    input.pipeBytes(enc({ id: 3, qty: 1, ts: 3 }));
    assert.deepEqual(
      d
        .output(out)
        .values()
        .map((o) => o.id),
      [1, 3],
    );
    const [dl] = d.deadLetters();
    assert.equal(dl.kind, 'deserialize');
    assert.match(dl.reason, /cannot deserialize/);
    assert.ok(dl.value instanceof Uint8Array);
    assert.equal(new TextDecoder().decode(dl.value as Uint8Array), '{"id": 2, "qty": ');
  });

  it('NaN, negative, non-numeric and far-future timestamps are dead-lettered; the watermark is unharmed', () => {
    const app = new StreamApp('bad-ts', { maxFutureMs: 60_000 });
    const out = app
      .stream<Order>('orders', { timestamp: (o) => o.ts })
      .keyBy(() => 'all')
      .window(tumbling(10))
      .count()
      .to('out');
    const d = new TestDriver(app, { startTime: 1_000 });
    const input = d.input<Order>('orders');
    input.pipe({ id: 1, qty: 1, ts: 5 });
    input.pipe({ id: 2, qty: 1, ts: Number.NaN });
    input.pipe({ id: 3, qty: 1, ts: 1_000 + 60_001 }); // beyond processing time + maxFutureMs
    input.pipe({ id: 4, qty: 1, ts: -3 });
    input.pipe({ id: 5, qty: 1, ts: 'yesterday' as unknown as number });
    input.pipe({ id: 6, qty: 1, ts: 7 });
    assert.equal(d.watermarkOf('orders'), 6, 'the far-future record did not move event time');
    input.pipe({ id: 7, qty: 1, ts: 12 });
    const windows = d.output(out).values();
    assert.deepEqual(
      windows.map((w) => [w.window.start, w.value]),
      [[0, 2]],
      'records 1 and 6 counted, none of the bad ones',
    );
    const reasons = d.deadLetters().map((l) => `${l.kind}: ${l.reason}`);
    assert.equal(reasons.length, 4);
    assert.equal(reasons[0], 'timestamp: timestamp is NaN');
    assert.match(reasons[1], /^timestamp: timestamp 61001 is more than 60000 ms ahead of processing time/);
    assert.equal(reasons[2], 'timestamp: timestamp -3 is negative');
    assert.equal(reasons[3], 'timestamp: timestamp is not a number (string)');
  });

  it('a throwing timestamp extractor, key extractor, aggregate or process function dead-letters', () => {
    const app = new StreamApp('bad-many');
    const keyed = app
      .stream<Order>('orders', {
        timestamp: (o) => {
          if (o.id === 13) throw new Error('unlucky');
          return o.ts;
        },
      })
      .keyBy((o) => {
        if (o.id === 14) throw new Error('no key');
        return o.id % 2;
      });
    const counts = keyed
      .window(tumbling(100))
      .aggregate({
        createAccumulator: () => 0,
        add: (a, o: Order) => {
          if (o.id === 15) throw new Error('bad add');
          return a + o.qty;
        },
        merge: (a, b) => a + b,
        getResult: (a) => a,
      })
      .to('counts');
    const seen = keyed
      .process<number>({
        processElement(o, ctx) {
          if (o.id === 16) throw new Error('bad process');
          ctx.emit(o.id);
        },
      })
      .to('seen');
    const d = new TestDriver(app, { startTime: 0 });
    d.input<Order>('orders').pipeAll(
      [11, 12, 13, 14, 15, 16, 17].map((id) => ({ value: { id, qty: 1, ts: id } })),
    );
    d.end();
    assert.deepEqual(d.output(seen).values(), [11, 12, 15, 17]);
    assert.deepEqual(
      d
        .output(counts)
        .values()
        .map((w) => [w.key, w.value]),
      [
        [1, 2],
        [0, 2],
      ],
      'key 1: 11, 17 (15 threw in add); key 0: 12, 16',
    );
    assert.deepEqual(
      d
        .deadLetters()
        .map((l) => l.reason)
        .sort(),
      ['bad add', 'bad process', 'no key', 'unlucky'],
    );
  });
});
