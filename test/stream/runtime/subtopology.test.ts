/**
 * Sub-topologies and partition counts (plan/subtopology.ts): a keyBy before a stateful
 * operator cuts the app at a `<app>-<operator>-repartition` topic; co-partitioned inputs share
 * a sub-topology and must have equal partition counts; repartition topics take their counts
 * from the inputs. Also the Kafka boundary helpers of runtime/kafka-io.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  counting,
  jsonSerde,
  resolvePartitions,
  StreamApp,
  StreamRecord,
  splitTopology,
  TopicSink,
  tumbling,
  UpstreamWatermarks,
} from '../../../src/stream/index.js';
import { partitionFor } from '../../../src/transport/index.js';

interface Ev {
  user: string;
  page: string;
  ts: number;
}

function windowedApp(): StreamApp {
  const app = new StreamApp('clicks');
  app
    .stream<Ev>('clicks-in', { timestamp: (e) => e.ts, serde: jsonSerde<Ev>() })
    .keyBy((e) => e.page, 'by-page')
    .window(tumbling(1000))
    .aggregate(counting(), 'count-per-page')
    .to('page-counts');
  return app;
}

describe('splitTopology', () => {
  it('cuts a keyBy before a window into two sub-topologies through a repartition topic', () => {
    const plan = splitTopology(windowedApp().graph, 'clicks');
    assert.equal(plan.subTopologies.length, 2);
    assert.deepEqual(plan.repartitionTopics, [
      { topic: 'clicks-count-per-page-repartition', from: 0, to: 1 },
    ]);
    const [up, down] = plan.subTopologies;
    assert.deepEqual(up.inputs, [{ topic: 'clicks-in', internal: false }]);
    assert.deepEqual(up.outputs, [{ topic: 'clicks-count-per-page-repartition', internal: true }]);
    assert.equal(up.primary, 'clicks-in');
    assert.deepEqual(down.inputs, [{ topic: 'clicks-count-per-page-repartition', internal: true }]);
    assert.equal(down.primary, 'clicks-count-per-page-repartition');
    assert.deepEqual(down.outputs, [{ topic: 'page-counts', internal: false }]);
    // Operator names are kept: state and changelog names do not change with the split.
    assert.ok(down.operatorNames.includes('count-per-page'));
    assert.equal(
      down.topology.nodes.some((n) => n.repartition),
      false,
    );
  });

  it('keeps a stateless app and a table join in one sub-topology (co-partitioned inputs)', () => {
    const app = new StreamApp('enrich');
    const users = app.table<{ name: string }>('users', { serde: jsonSerde() });
    app
      .stream<{ id: string }>('orders', { serde: jsonSerde() })
      .asKeyed<string>()
      .join(users, (o, u) => ({ ...o, name: u.name }))
      .to('orders-enriched');
    const plan = splitTopology(app.graph, 'enrich');
    assert.equal(plan.subTopologies.length, 1);
    assert.deepEqual(
      plan.subTopologies[0].inputs.map((i) => i.topic),
      ['users', 'orders'],
    );
    assert.equal(plan.repartitionTopics.length, 0);
  });

  it('a keyBy before a table join moves the join, the table and the table input together', () => {
    const app = new StreamApp('enrich2');
    const users = app.table<{ name: string }>('users', { serde: jsonSerde() });
    app
      .stream<{ user: string }>('orders', { serde: jsonSerde() })
      .keyBy((o) => o.user)
      .join(users, (o, u) => ({ ...o, name: u.name }), 'join-users')
      .to('out');
    const plan = splitTopology(app.graph, 'enrich2');
    assert.equal(plan.subTopologies.length, 2);
    const join = plan.subTopologies.find((s) => s.operatorNames.includes('join-users'));
    assert.ok(join);
    assert.deepEqual(join.inputs.map((i) => i.topic).sort(), ['enrich2-join-users-repartition', 'users']);
    assert.equal(join.primary, 'enrich2-join-users-repartition');
  });
});

describe('resolvePartitions', () => {
  it('gives a repartition topic its upstream count and checks co-partitioning', () => {
    const plan = splitTopology(windowedApp().graph, 'clicks');
    const r = resolvePartitions(plan, new Map([['clicks-in', 12]]));
    assert.deepEqual(r.subTopologies, [12, 12]);
    assert.equal(r.topics.get('clicks-count-per-page-repartition'), 12);
  });

  it('refuses co-partitioned inputs with different partition counts, naming both', () => {
    const app = new StreamApp('enrich');
    const users = app.table<{ name: string }>('users', { serde: jsonSerde() });
    app
      .stream<{ id: string }>('orders', { serde: jsonSerde() })
      .asKeyed<string>()
      .join(users, (o, u) => ({ ...o, name: u.name }))
      .to('out');
    const plan = splitTopology(app.graph, 'enrich');
    assert.throws(
      () =>
        resolvePartitions(
          plan,
          new Map([
            ['users', 3],
            ['orders', 4],
          ]),
        ),
      (e: Error & { code?: string }) =>
        e.code === 'INVALID_CONFIG' && /'users'/.test(e.message) && /'orders'/.test(e.message),
    );
    assert.throws(
      () => resolvePartitions(plan, new Map([['users', 3]])),
      (e: Error & { code?: string }) => e.code === 'NOT_FOUND' && /orders/.test(e.message),
    );
  });

  it('a repartition topic joined with an external input takes the external count', () => {
    const app = new StreamApp('e3');
    const users = app.table<{ name: string }>('users', { serde: jsonSerde() });
    app
      .stream<{ user: string }>('orders', { serde: jsonSerde() })
      .keyBy((o) => o.user)
      .join(users, (o, u) => ({ ...o, name: u.name }), 'j')
      .to('out');
    const plan = splitTopology(app.graph, 'e3');
    const r = resolvePartitions(
      plan,
      new Map([
        ['users', 6],
        ['orders', 2],
      ]),
    );
    assert.equal(r.topics.get('e3-j-repartition'), 6);
  });
});

describe('kafka-io', () => {
  it('TopicSink reports once when user-topic records are older than the default time retention', () => {
    const seen: Array<[string, number]> = [];
    const old = Date.now() - 8 * 24 * 3600 * 1000;
    const s = new TopicSink('out', 'out', 3, 0, 'user', (t, ts) => seen.push([t, ts]));
    s.write([new StreamRecord('a', 1, old)]);
    s.write([new StreamRecord('a', 2, old - 1)]);
    assert.deepEqual(seen, [['out', old]]);
    const fresh: unknown[] = [];
    new TopicSink('out', 'out', 3, 0, 'user', (...a) => fresh.push(a)).write([
      new StreamRecord('a', 1, Date.now()),
    ]);
    new TopicSink('rep', 'rep', 3, 0, 'internal', (...a) => fresh.push(a)).write([
      new StreamRecord('a', 1, old),
    ]);
    assert.deepEqual(fresh, [], 'recent records and internal topics (retention -1) are not reported');
  });

  it('TopicSink partitions keyed records by murmur2 and null keys by the task partition', () => {
    const s = new TopicSink('out', 'out', 5, 7, 'user');
    s.write([
      new StreamRecord('alice', { n: 1 }, 10),
      new StreamRecord(null, 'x', 11),
      new StreamRecord('alice', { n: 2 }, 12),
    ]);
    const out = s.drain();
    const alice = partitionFor(Buffer.from('alice'), 5);
    const byP = new Map(out.map((o) => [o.partition, o]));
    assert.equal(byP.get(alice)?.records.length, alice === 2 ? 3 : 2);
    assert.deepEqual(
      byP
        .get(alice)
        ?.records.filter((r) => r.key !== null)
        .map((r) => JSON.parse(String(r.value)).n),
      [1, 2],
    );
    assert.ok(byP.get(7 % 5)?.records.some((r) => r.key === null && String(r.value) === 'x'));
    assert.equal(s.drain().length, 0);
  });

  it('UpstreamWatermarks holds at −∞ until every upstream task reported, then takes the minimum', () => {
    const u = new UpstreamWatermarks(3);
    assert.equal(u.update('0_0', 100), Number.NEGATIVE_INFINITY);
    assert.equal(u.update('0_1', 50), Number.NEGATIVE_INFINITY);
    assert.equal(u.update('0_2', 70), 50);
    assert.equal(u.update('0_1', 40), 50, 'a watermark never goes back');
    assert.equal(u.update('0_1', 90), 70);
    assert.equal(u.update('0_2', 'idle'), 90, 'an idle upstream task holds nobody back');
    assert.equal(u.update('0_2', 80), 80, 'until it reports a watermark again');
  });

  it('UpstreamWatermarks: idle tasks count as reported; all idle gives the largest watermark', () => {
    const u = new UpstreamWatermarks(2);
    assert.equal(u.update('0_0', 'idle'), Number.NEGATIVE_INFINITY);
    assert.equal(u.update('0_1', 30), 30);
    assert.equal(u.update('0_1', 'idle'), 30);
    assert.equal(u.update('0_0', 20), 20);
  });
});
