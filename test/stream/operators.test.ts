/**
 * Operators end to end on the test driver: stateless chains (and their fusion), branch/merge,
 * keyed process with state, TTL and timers, tables and stream–table joins, interval joins,
 * async enrichment, idleness in a pipeline, the commit protocol.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  boundedOutOfOrderness,
  CollectingSink,
  createInMemoryEngine,
  StreamApp,
  StreamRecord,
  storeStateFactory,
  summing,
  Task,
  TestDriver,
  tumbling,
} from '../../src/stream/index.js';

interface Click {
  user: string;
  page: string;
  ts: number;
}

describe('typed DSL', () => {
  it('types flow from source to sink without casts (checked by tsc: @ts-expect-error lines)', () => {
    interface Txn {
      customer: string;
      amount: number;
      ts: number;
    }
    const app = new StreamApp('types');
    const txns = app.stream<Txn>('txns', { timestamp: (t) => t.ts });
    const windows = txns
      .keyBy((t) => t.customer)
      .window(tumbling(10))
      .aggregate(summing((t) => t.amount));
    const alerts = windows.filter((w) => w.value > 5).map((w) => ({ customer: w.key, total: w.value }));
    // Never called: these lines only exist for the type checker.
    const mustNotCompile = () => {
      // @ts-expect-error — Txn has no field 'nope'
      txns.map((t) => t.nope);
      // @ts-expect-error — totals are numbers
      alerts.map((a) => a.total.toUpperCase());
    };
    void mustNotCompile;
    const out = alerts.to('alerts');
    const d = new TestDriver(app, { startTime: 0 });
    d.input<Txn>('txns').pipeAll([{ value: { customer: 'c', amount: 7, ts: 1 } }]);
    d.end();
    const rows = d.output(out).values(); // typed { customer: string; total: number }[]
    assert.deepEqual(rows, [{ customer: 'c', total: 7 }]);
    const total: number = rows[0].total;
    assert.equal(total, 7);
  });
});

describe('stateless operators', () => {
  it('map, filter, flatMap, keyBy flow typed and fuse into one chained operator', () => {
    const app = new StreamApp('chain');
    const out = app
      .stream<string>('lines')
      .flatMap((line) => line.split(' '))
      .filter((w) => w.length > 2)
      .map((w) => w.toUpperCase())
      .keyBy((w) => w[0])
      .to('words');
    const d = new TestDriver(app, { startTime: 0 });
    d.input<string>('lines').pipe('the quick brown fox', { timestamp: 1 });
    assert.deepEqual(d.output(out).values(), ['THE', 'QUICK', 'BROWN', 'FOX']);
    assert.deepEqual(
      d
        .output(out)
        .records()
        .map((r) => r.key),
      ['T', 'Q', 'B', 'F'],
    );
    const plan = app.topology().describe().split('\n');
    assert.equal(plan.length, 3, `source, one fused chain, sink:\n${plan.join('\n')}`);
    assert.match(plan[1], /^flatMap-1\+filter-2\+map-3\+keyBy-4/);
  });

  it('branch routes by first matching predicate; merge unions with the minimum watermark', () => {
    const app = new StreamApp('branch');
    const a = app.stream<number>('a', { timestamp: (n) => n });
    const b = app.stream<number>('b', { timestamp: (n) => n });
    const { small, big } = a.branch({ small: (n) => n < 10, big: () => true });
    const smallOut = small.to('small');
    const merged = big.merge(b);
    const tagged = a.map((n) => ({ n })).merge(b.map((n) => `b${n}`));
    const mixed = tagged.map((v) => (typeof v === 'string' ? v : `a${v.n}`)).to('mixed');
    const counted = merged
      .keyBy(() => 'k')
      .window(tumbling(100))
      .count()
      .to('counts');
    const d = new TestDriver(app, { startTime: 0 });
    d.input<number>('a').pipeAll([{ value: 3 }, { value: 50 }, { value: 250 }]);
    assert.deepEqual(d.output(smallOut).values(), [3]);
    assert.deepEqual(
      d.output(mixed).values(),
      ['a3', 'a50', 'a250'],
      'merge of different value types is typed as their union',
    );
    assert.equal(d.output(counted).size, 0, 'input b has no watermark yet: the merge holds');
    d.input<number>('b').pipe(120);
    assert.deepEqual(
      d
        .output(counted)
        .values()
        .map((w) => [w.window.start, w.value]),
      [[0, 1]],
      'min(249, 119) closes [0,100) only',
    );
  });
});

describe('keyed process', () => {
  it('keeps per-key state and fires event-time timers in order', () => {
    const app = new StreamApp('process');
    // Emits a user's click count 10 ms (event time) after their first click.
    const out = app
      .stream<Click>('clicks', { timestamp: (c) => c.ts })
      .keyBy((c) => c.user)
      .process<string>({
        processElement(_c, ctx) {
          const n = ctx.state<number>('count');
          const prev = n.get();
          if (prev === undefined) ctx.timers.registerEventTimeTimer(ctx.timestamp + 10);
          n.set((prev ?? 0) + 1);
        },
        onTimer(ts, ctx) {
          const n = ctx.state<number>('count');
          ctx.emit(`${ctx.key}:${n.get()}@${ts}`);
          n.clear();
        },
      })
      .to('out');
    const d = new TestDriver(app, { startTime: 0 });
    const input = d.input<Click>('clicks');
    input.pipe({ user: 'u1', page: 'a', ts: 0 });
    input.pipe({ user: 'u2', page: 'a', ts: 3 });
    input.pipe({ user: 'u1', page: 'b', ts: 5 });
    assert.deepEqual(d.output(out).values(), []);
    // A batch's records are processed before the watermark it produces (10): the click at 11
    // is counted, then u1's timer fires and clears the count.
    input.pipe({ user: 'u1', page: 'c', ts: 11 });
    assert.deepEqual(d.output(out).values(), ['u1:3@10']);
    input.pipe({ user: 'u1', page: 'd', ts: 12 }); // a fresh count with a fresh timer at 22
    d.end();
    assert.deepEqual(d.output(out).values(), ['u1:3@10', 'u2:1@13', 'u1:1@22']);
  });

  it('processing-time timers fire when the driver advances processing time', () => {
    const app = new StreamApp('ptimer');
    const out = app
      .stream<Click>('clicks', { timestamp: (c) => c.ts })
      .keyBy((c) => c.user)
      .process<string>({
        processElement(c, ctx) {
          ctx.timers.registerProcessingTimeTimer(ctx.processingTime + 1000);
          ctx.state<string>('last').set(c.page);
        },
        onTimer(_t, ctx, info) {
          ctx.emit(`${info.domain}:${ctx.key}:${ctx.state<string>('last').get()}`);
        },
      })
      .to('out');
    const d = new TestDriver(app, { startTime: 0 });
    d.input<Click>('clicks').pipe({ user: 'u', page: 'home', ts: 1 });
    d.advanceProcessingTime(999);
    assert.equal(d.output(out).size, 0);
    d.advanceProcessingTime(1);
    assert.deepEqual(d.output(out).values(), ['processing:u:home']);
  });

  for (const engine of ['heap', 'state-store'] as const) {
    it(`state TTL expires entries in processing time (${engine})`, () => {
      const app = new StreamApp(`ttl-${engine}`);
      const out = app
        .stream<Click>('clicks', { timestamp: (c) => c.ts })
        .keyBy((c) => c.user)
        .process<string>({
          processElement(c, ctx) {
            const last = ctx.state<string>('last', { ttlMs: 1000 });
            ctx.emit(`${c.page} after ${last.get() ?? 'nothing'}`);
            last.set(c.page);
          },
        })
        .to('out');
      let now = 0;
      const d = new TestDriver(app, {
        startTime: 0,
        stateFactory:
          engine === 'heap' ? undefined : storeStateFactory(createInMemoryEngine(), { clock: () => now }),
      });
      const pipe = (page: string, at: number) => {
        now = at;
        d.setProcessingTime(at);
        d.input<Click>('clicks').pipe({ user: 'u', page, ts: at });
      };
      pipe('a', 0);
      pipe('b', 999);
      pipe('c', 1999);
      pipe('d', 3000);
      assert.deepEqual(d.output(out).values(), [
        'a after nothing',
        'b after a',
        'c after nothing',
        'd after nothing',
      ]);
    });
  }
});

describe('tables and joins', () => {
  interface Customer {
    id: string;
    tier: string;
  }
  interface Order {
    customer: string;
    amount: number;
  }

  it('stream–table join enriches with the latest row; left join keeps misses; deletes apply', () => {
    const app = new StreamApp('enrich');
    const customers = app.table<Customer>('customers');
    const orders = app.stream<Order>('orders').keyBy((o) => o.customer);
    const inner = orders.join(customers, (o, c) => `${o.amount}:${c?.tier}`).to('inner');
    const left = orders.leftJoin(customers, (o, c) => `${o.amount}:${c?.tier ?? 'unknown'}`).to('left');
    const d = new TestDriver(app, { startTime: 0 });
    d.input<Customer>('customers').pipe({ id: 'c1', tier: 'gold' }, { key: 'c1' });
    d.input<Order>('orders').pipe({ customer: 'c1', amount: 10 });
    d.input<Order>('orders').pipe({ customer: 'c2', amount: 20 });
    d.input<Customer>('customers').pipe({ id: 'c1', tier: 'platinum' }, { key: 'c1' });
    d.input<Order>('orders').pipe({ customer: 'c1', amount: 30 });
    d.input<Customer | null>('customers').pipe(null, { key: 'c1' });
    d.input<Order>('orders').pipe({ customer: 'c1', amount: 40 });
    assert.deepEqual(d.output(inner).values(), ['10:gold', '30:platinum']);
    assert.deepEqual(d.output(left).values(), ['10:gold', '20:unknown', '30:platinum', '40:unknown']);
    assert.equal(d.state<string, Customer>('table:customers').get('c1'), undefined);
  });

  it('a table keyed by a field still deletes on a tombstone carrying the record key', () => {
    const app = new StreamApp('tomb');
    const customers = app.table<Customer>('customers', { key: (c) => c.id });
    const out = customers.toStream().to('changes');
    const d = new TestDriver(app, { startTime: 0 });
    d.input<Customer | null>('customers').pipe({ id: 'c1', tier: 'gold' }, { key: 'ignored' });
    assert.equal(d.state<string, Customer>('table:customers').get('c1')?.tier, 'gold');
    d.input<Customer | null>('customers').pipe(null, { key: 'c1' });
    assert.equal(d.state<string, Customer>('table:customers').get('c1'), undefined);
    assert.deepEqual(d.output(out).values(), [{ id: 'c1', tier: 'gold' }], 'toStream drops tombstones');
    assert.equal(d.deadLetters().length, 0);
  });

  it('interval join matches within bounds, drops late records to the side, cleans its buffers', () => {
    const app = new StreamApp('ij');
    const imps = app.stream<Click>('impressions', { timestamp: (c) => c.ts }).keyBy((c) => c.user);
    const clicks = app.stream<Click>('clicks', { timestamp: (c) => c.ts }).keyBy((c) => c.user);
    const out = imps
      .intervalJoin(clicks, { lowerMs: 0, upperMs: 10 }, (i, c) => `${i.page}->${c.page}`)
      .to('out');
    const d = new TestDriver(app, { startTime: 0 });
    d.input<Click>('impressions').pipe({ user: 'u', page: 'ad1', ts: 100 });
    d.input<Click>('clicks').pipe({ user: 'u', page: 'c-in', ts: 105 });
    d.input<Click>('clicks').pipe({ user: 'u', page: 'c-out', ts: 111 });
    d.input<Click>('clicks').pipe({ user: 'x', page: 'c-other', ts: 106 });
    d.input<Click>('impressions').pipe({ user: 'u', page: 'ad2', ts: 104 });
    assert.deepEqual(d.output(out).values(), ['ad1->c-in', 'ad2->c-in', 'ad2->c-out']);
    assert.deepEqual(
      d
        .output(out)
        .records()
        .map((r) => r.timestamp),
      [105, 105, 111],
    );
    d.advanceEventTime('impressions', 200);
    d.advanceEventTime('clicks', 200);
    d.input<Click>('clicks').pipe({ user: 'u', page: 'late', ts: 150 });
    assert.equal(d.lateRecords().length, 1);
    const join = d.task.operators.find((o) => o.name.startsWith('intervalJoin')) as unknown as {
      bufferedCount(): number;
    };
    assert.equal(join.bufferedCount(), 0, 'buffers are cleaned once no match is possible');
  });
});

describe('window join and rolling aggregation', () => {
  interface Person {
    id: number;
    name: string;
    ts: number;
  }
  interface Auction {
    seller: number;
    item: string;
    ts: number;
  }

  it('window join pairs same-key records of the same window when it closes (Nexmark q8 shape)', () => {
    const app = new StreamApp('wj');
    const persons = app.stream<Person>('persons', { timestamp: (p) => p.ts }).keyBy((p) => p.id);
    const auctions = app.stream<Auction>('auctions', { timestamp: (a) => a.ts }).keyBy((a) => a.seller);
    const out = persons.windowJoin(auctions, tumbling(10), (p, a) => `${p.name}:${a.item}`).to('out');
    const d = new TestDriver(app, { startTime: 0 });
    d.input<Person>('persons').pipeAll([
      { value: { id: 1, name: 'ann', ts: 1 } },
      { value: { id: 2, name: 'bob', ts: 2 } },
      { value: { id: 3, name: 'cy', ts: 12 } },
    ]);
    d.input<Auction>('auctions').pipeAll([
      { value: { seller: 1, item: 'lamp', ts: 5 } },
      { value: { seller: 1, item: 'desk', ts: 9 } },
      { value: { seller: 2, item: 'vase', ts: 11 } }, // other window than bob's
      { value: { seller: 3, item: 'rug', ts: 13 } },
    ]);
    assert.deepEqual(d.output(out).values(), ['ann:lamp', 'ann:desk'], 'window [0,10) closed at wm 11');
    d.end();
    assert.deepEqual(d.output(out).values(), ['ann:lamp', 'ann:desk', 'cy:rug']);
  });

  it('rolling aggregate emits the updated result per key for every record', () => {
    const app = new StreamApp('roll');
    const out = app
      .stream<Auction>('auctions')
      .keyBy((a) => a.seller)
      .aggregate(summing((a: Auction) => a.item.length))
      .to('out');
    const d = new TestDriver(app, { startTime: 0 });
    d.input<Auction>('auctions').pipeAll(
      ['ab', 'c', 'def', 'gh'].map((item, i) => ({ value: { seller: i % 2, item, ts: i } })),
    );
    assert.deepEqual(
      d
        .output(out)
        .records()
        .map((r) => `${r.key}=${r.value}`),
      ['0=2', '1=1', '0=5', '1=3'],
    );
  });
});

describe('async enrichment', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('ordered: results in input order with bounded concurrency; the watermark waits for them', async () => {
    const app = new StreamApp('async');
    let inFlight = 0;
    let maxInFlight = 0;
    const enriched = app
      .stream<number>('in', { timestamp: (n) => n })
      .mapAsync(
        async (n) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await sleep(n % 3 === 0 ? 30 : 2); // some slow calls
          inFlight--;
          return n * 10;
        },
        { concurrency: 3 },
      )
      .keyBy(() => 'all');
    const out = enriched.to('out');
    const counts = enriched.window(tumbling(5)).count().to('counts');
    const d = new TestDriver(app, { startTime: 0 });
    d.input<number>('in').pipeAll(
      [0, 1, 2, 3, 4, 5, 6, 7].map((n) => ({ value: n })),
      1,
    );
    assert.equal(d.output(out).size, 0, 'processing returned without waiting for any call');
    await d.settle();
    assert.deepEqual(d.output(out).values(), [0, 10, 20, 30, 40, 50, 60, 70]);
    assert.ok(maxInFlight <= 3 && maxInFlight >= 2, `max in flight ${maxInFlight}`);
    assert.deepEqual(
      d
        .output(counts)
        .values()
        .map((w) => w.value),
      [5],
      'window [0,5) closed only after all five results arrived',
    );
  });

  it('unordered: results as they complete', async () => {
    const app = new StreamApp('async-u');
    const out = app
      .stream<number>('in')
      .mapAsync(
        async (n) => {
          await sleep(n);
          return n;
        },
        { ordered: false, concurrency: 10 },
      )
      .to('out');
    const d = new TestDriver(app, { startTime: 0 });
    d.input<number>('in').pipeAll([{ value: 40 }, { value: 1 }, { value: 20 }]);
    await d.settle();
    assert.deepEqual(d.output(out).values(), [1, 20, 40]);
  });

  it('timeouts and failures are retried, then dead-lettered; other records continue', async () => {
    const app = new StreamApp('async-fail');
    const attempts = new Map<number, number>();
    const out = app
      .stream<number>('in')
      .mapAsync(
        async (n) => {
          attempts.set(n, (attempts.get(n) ?? 0) + 1);
          if (n === 1) await sleep(200); // always too slow
          if (n === 2 && (attempts.get(n) ?? 0) < 2) throw new Error('flaky');
          if (n === 3) throw new Error('down');
          return n;
        },
        { timeoutMs: 20, retries: 1, backoffMs: 1 },
      )
      .to('out');
    const d = new TestDriver(app, { startTime: 0 });
    d.input<number>('in').pipeAll([0, 1, 2, 3, 4].map((value) => ({ value })));
    await d.settle();
    assert.deepEqual(d.output(out).values(), [0, 2, 4]);
    assert.equal(attempts.get(2), 2, 'the flaky call succeeded on retry');
    const dl = d.deadLetters();
    assert.deepEqual(
      dl.map((l) => [l.kind, l.value]),
      [
        ['async', 1],
        ['async', 3],
      ],
    );
    assert.match(dl[0].reason, /timed out after 20 ms/);
    assert.match(dl[1].reason, /after 2 attempt\(s\): down/);
  });
});

describe('idleness and commit', () => {
  it('an idle partition stops holding the window back after the idleness timeout', () => {
    const app = new StreamApp('idle');
    const out = app
      .stream<Click>('clicks', {
        partitions: 2,
        timestamp: (c) => c.ts,
        watermark: boundedOutOfOrderness(0),
        idleness: 5000,
      })
      .keyBy((c) => c.user)
      .window(tumbling(100))
      .count()
      .to('out');
    const d = new TestDriver(app, { startTime: 0 });
    const input = d.input<Click>('clicks');
    input.pipe({ user: 'a', page: 'x', ts: 10 }, { partition: 0 });
    input.pipe({ user: 'a', page: 'x', ts: 50 }, { partition: 1 });
    d.advanceProcessingTime(3000);
    input.pipe({ user: 'a', page: 'x', ts: 500 }, { partition: 0 });
    assert.equal(d.output(out).size, 0, 'partition 1 (wm 49) holds the window');
    d.advanceProcessingTime(2000);
    assert.deepEqual(
      d
        .output(out)
        .values()
        .map((w) => [w.window.start, w.value]),
      [[0, 2]],
      'after 5 s without data partition 1 is idle: wm = 499',
    );
    const m = d.task.metrics();
    assert.deepEqual(m.inputs.clicks, {
      recordsIn: 3,
      watermark: 499,
      watermarkLagMs: 5000 - 499,
      idle: false,
    });
    assert.equal(m.outputs.out, 1);
  });

  it('a task owns only its assigned partitions; its watermark ignores the others', () => {
    const app = new StreamApp('assigned');
    app
      .stream<number>('in', { partitions: 4, timestamp: (n) => n })
      .keyBy(() => 'k')
      .window(tumbling(10))
      .count()
      .to('out');
    const sinks = new Map<string, CollectingSink>();
    const task = new Task(app.topology(), {
      taskId: '0_2',
      clock: () => 0,
      assignment: { in: [2] },
      sinkFactory: (name) => {
        const s = new CollectingSink(name);
        sinks.set(name, s);
        return s;
      },
    });
    assert.throws(() => task.ingest('in', 0, [new StreamRecord(null, 1, 0)]), /does not own partition 0/);
    task.ingest('in', 2, [new StreamRecord(null, 3, 0), new StreamRecord(null, 15, 0)], 2);
    assert.deepEqual(
      sinks
        .get('out')
        ?.all()
        .map((r) => (r.value as { value: number }).value),
      [1],
      'partition 2 alone drives event time: [0,10) closed',
    );
  });

  it('commit reports consumed offsets per input partition and commits sinks', async () => {
    const app = new StreamApp('commit');
    app.stream<number>('in', { partitions: 2 }).to('out');
    const d = new TestDriver(app, { startTime: 0 });
    d.input<number>('in').pipeAll([
      { value: 1, partition: 0 },
      { value: 2, partition: 0 },
      { value: 3, partition: 1 },
    ]);
    const seen: Array<[string, number, number]> = [];
    const res = await d.commit({
      commit(offsets) {
        for (const [input, parts] of offsets) for (const [p, o] of parts) seen.push([input, p, o]);
      },
    });
    assert.deepEqual(seen, [
      ['in', 0, 2],
      ['in', 1, 1],
    ]);
    assert.ok(res.durationMs >= 0);
    await assert.rejects(
      d.commit({
        commit() {
          throw new Error('fenced');
        },
      }),
      /fenced/,
    );
  });
});
