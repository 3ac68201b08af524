/**
 * Standby replicas (StreamRuntime standbyReplicas: 1) on both transports: two instances of a
 * running count per key; once the input is processed each keeps standbys of the other's
 * stateful tasks with changelog lag 0; the owner of some tasks stops (kafka transport: a child
 * process killed with SIGKILL; embedded transport: close(), the broker lives in this process)
 * and the survivor takes its tasks restoring from its standbys: only the changelog's tail is
 * read (restored < the changelog partition's size, fromStandby > 0), and the output after
 * more input holds exactly the expected running counts (exactly_once, read_committed).
 * Also: placement is deterministic and never puts a standby on its owner's instance.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { StreamRuntime } from '../../../src/stream/index.js';
import { placeStandbys } from '../../../src/stream/runtime/standby.js';
import {
  createEmbeddedTransport,
  createKafkaTransport,
  type GroupDescription,
  type IncomingRecord,
  type Transport,
} from '../../../src/transport/index.js';
import { startTestBroker, type TestBroker } from '../../transport/broker-fixture.js';
import { type Ev, standbyCountApp } from '../fixtures/standby-app.js';

const KEYS = Array.from({ length: 40 }, (_, i) => `key-${i}`);
const PARTITIONS = 4;
const debug = (...a: unknown[]) => {
  if (process.env.STANDBY_DEBUG) console.error(new Date().toISOString(), ...a);
};

interface StandbyView {
  changelogLag: number | null;
  recordsApplied: number;
}

/** An instance of the app, in this process or in a child process. */
interface Instance {
  readonly id: string;
  tasks(): Promise<string[]>;
  standbys(): Promise<Record<string, StandbyView>>;
  stop(): Promise<void>;
}

function events(n: number, start = 0): Ev[] {
  return Array.from({ length: n }, (_, i) => ({
    k: KEYS[(start + i) % KEYS.length] as string,
    ts: 1000 + start + i,
  }));
}

async function produce(t: Transport, topic: string, evs: Ev[]): Promise<void> {
  const p = t.producer({});
  await p.connect();
  const byPartition = new Map<number, Ev[]>();
  for (const e of evs) {
    const part = KEYS.indexOf(e.k) % PARTITIONS;
    byPartition.set(part, [...(byPartition.get(part) ?? []), e]);
  }
  for (const [part, list] of byPartition)
    await p.send(
      topic,
      part,
      list.map((e) => ({ key: Buffer.from(e.k), value: Buffer.from(JSON.stringify(e)), timestamp: e.ts })),
    );
  await p.flush();
  await p.close();
}

async function readAll(t: Transport, topic: string, count: number): Promise<IncomingRecord[]> {
  const r = t.partitionReader({ isolationLevel: 'read_committed' });
  await r.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: 0 })));
  const out: IncomingRecord[] = [];
  const deadline = Date.now() + 60_000;
  while (out.length < count && Date.now() < deadline) out.push(...(await r.poll(10_000, 100)));
  out.push(...(await r.poll(10_000, 300))); // duplicates would show up here
  await r.close();
  return out;
}

async function until(cond: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function inProcess(app: string, t: Transport, id: string): Instance & { runtime: StreamRuntime } {
  const runtime = new StreamRuntime(standbyCountApp(app), {
    transport: t,
    instanceId: id,
    threads: 1,
    commitIntervalMs: 50,
    sessionTimeoutMs: 3000,
    standbyReplicas: 1,
    announce: false,
  });
  return {
    id,
    runtime,
    tasks: async () => runtime.metrics().threads.flatMap((th) => Object.keys(th.tasks)),
    standbys: async () => {
      await runtime.refreshLag();
      return Object.assign({}, ...runtime.metrics().threads.map((th) => th.standbys));
    },
    stop: () => runtime.close(),
  };
}

/** The fixture process: its last metrics line; stop() is SIGKILL. */
async function childInstance(
  bootstrap: string,
  app: string,
  id: string,
): Promise<Instance & { child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/stream/fixtures/standby-instance.ts', bootstrap, app, id],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' } },
  );
  let last: { tasks: string[]; standbys: Record<string, StandbyView> } | undefined;
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) {
      if (l.startsWith('{"tasks"')) last = JSON.parse(l);
    }
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  await until(async () => last !== undefined || child.exitCode !== null, `child ${id} to start`);
  if (last === undefined) throw new Error(`child ${id} exited: ${stderr}`);
  return {
    id,
    child,
    tasks: async () => last?.tasks ?? [],
    standbys: async () => last?.standbys ?? {},
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Per key, the running counts in output order. */
function countsByKey(records: IncomingRecord[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const r of records) {
    const k = String(r.key);
    m.set(k, [...(m.get(k) ?? []), Number(String(r.value))]);
  }
  return m;
}

async function standbyScenario(
  t: Transport,
  app: string,
  start: (id: string) => Promise<Instance>,
): Promise<void> {
  await t.admin.ensureTopics([{ topic: `${app}-in`, partitions: PARTITIONS }]);
  const first = events(800);
  const second = events(800, 800);
  await produce(t, `${app}-in`, first);
  // 'a' stops later (the owner); 'b' survives. Started one after the other, 'a' first.
  const a = await start('a');
  const b = inProcess(app, t, 'b');
  try {
    await b.runtime.start();
    await readAll(t, `${app}-out`, first.length);
    let aTasks: string[] = [];
    await until(async () => {
      aTasks = (await a.tasks()).sort();
      const bTasks = (await b.tasks()).sort();
      const [sa, sb] = [await a.standbys(), await b.standbys()];
      debug(JSON.stringify({ aTasks, bTasks, sa, sb }));
      return (
        aTasks.length > 0 &&
        bTasks.length > 0 &&
        aTasks.length + bTasks.length === PARTITIONS &&
        JSON.stringify(Object.keys(sa).sort()) === JSON.stringify(bTasks) &&
        JSON.stringify(Object.keys(sb).sort()) === JSON.stringify(aTasks) &&
        [...Object.values(sa), ...Object.values(sb)].every((s) => s.changelogLag === 0)
      );
    }, "each instance to keep standbys of the other's tasks with changelog lag 0");
    const applied = Object.values(await b.standbys()).reduce((n, s) => n + s.recordsApplied, 0);
    assert.ok(applied > 0, 'the standbys applied changelog records');

    debug('converged');
    const changelog = (await t.admin.listTopics?.())?.find(
      (x) => x.startsWith(app) && x.endsWith('-changelog'),
    );
    assert.ok(changelog !== undefined, 'the store has a changelog topic');
    const sizes = new Map(
      (
        await t.admin.listOffsets(
          aTasks.map((id) => ({ topic: changelog, partition: Number(id.split('_')[1]) })),
          'latest',
        )
      ).map((e) => [`0_${e.partition}`, e.offset]),
    );

    debug('stopping a', sizes);
    await a.stop();
    debug('a stopped');
    await until(async () => {
      // A task shows in the metrics from the start of its restore: wait for every restore to end.
      const ts = Object.values(b.runtime.metrics().threads[0]?.tasks ?? {});
      return ts.length === PARTITIONS && ts.every((x) => x.restore.done);
    }, "the survivor to take and restore the stopped owner's tasks");
    const m = b.runtime.metrics().threads[0];
    assert.ok(m !== undefined);
    for (const id of aTasks) {
      const r = m.tasks[id]?.restore;
      assert.ok(r !== undefined, `task ${id} is active on the survivor`);
      assert.ok(r.done, `task ${id} restored`);
      assert.ok(r.fromStandby > 0, `task ${id} started from its standby (${r.fromStandby} entries)`);
      const size = sizes.get(id) ?? 0;
      assert.ok(
        r.restored < size,
        `task ${id} read only the tail: ${r.restored} < ${size} changelog offsets`,
      );
    }
    assert.deepEqual(await b.standbys(), {}, 'no other instance left: no standby');

    debug('survivor restored', m.tasks);
    await produce(t, `${app}-in`, second);
    debug('produced');
    const out = await readAll(t, `${app}-out`, first.length + second.length);
    debug('read', out.length);
    const expected = new Map<string, number>();
    for (const e of [...first, ...second]) expected.set(e.k, (expected.get(e.k) ?? 0) + 1);
    const byKey = countsByKey(out);
    assert.equal(out.length, first.length + second.length, 'no duplicate, no loss');
    for (const [k, n] of expected) {
      assert.deepEqual(
        byKey.get(k),
        Array.from({ length: n }, (_, i) => i + 1),
        `running count of ${k}: exactly once, in order`,
      );
    }
  } finally {
    await a.stop().catch(() => {});
    debug('closing b');
    await b.runtime.close();
    debug('closed b');
  }
}

describe('standby replicas', { timeout: 180_000 }, () => {
  let tb: TestBroker;
  before(async () => {
    tb = await startTestBroker();
  });
  after(async () => {
    await tb.close();
  });

  it('placement: the n instances after the owner in sorted order, never the owner; threads by task index', () => {
    const group: GroupDescription = {
      groupId: 'app',
      state: 'Stable',
      members: [
        {
          memberId: 'm1',
          clientId: 'app-b-0-consumer',
          groupInstanceId: null,
          assignment: [{ topic: 'in', partition: 0 }],
        },
        {
          memberId: 'm2',
          clientId: 'app-b-1-consumer',
          groupInstanceId: null,
          assignment: [{ topic: 'in', partition: 1 }],
        },
        {
          memberId: 'm3',
          clientId: 'app-a-0-consumer',
          groupInstanceId: null,
          assignment: [{ topic: 'in', partition: 2 }],
        },
        {
          memberId: 'm4',
          clientId: 'app-c-x-7-consumer',
          groupInstanceId: null,
          assignment: [{ topic: 'in', partition: 3 }],
        },
        { memberId: 'm5', clientId: 'other-client', groupInstanceId: null, assignment: [] },
      ],
    };
    const tasks = [0, 1, 2, 3, 4].map((p) => ({ id: `0_${p}`, subTopology: 0, topic: 'in', partition: p }));
    const one = placeStandbys(group, 'app', tasks, 1);
    assert.deepEqual(Object.fromEntries(one), {
      '0_0': [{ instance: 'c-x', thread: 7 }],
      '0_1': [{ instance: 'c-x', thread: 7 }],
      '0_2': [{ instance: 'b', thread: 0 }],
      '0_3': [{ instance: 'a', thread: 0 }],
    });
    const two = placeStandbys(group, 'app', tasks, 2);
    assert.deepEqual(two.get('0_2'), [
      { instance: 'b', thread: 0 },
      { instance: 'c-x', thread: 7 },
    ]);
    assert.deepEqual(two.get('0_3'), [
      { instance: 'a', thread: 0 },
      { instance: 'b', thread: 1 },
    ]);
    // More replicas than other instances: each other instance once, never the owner.
    assert.deepEqual(placeStandbys(group, 'app', tasks, 5).get('0_0'), [
      { instance: 'c-x', thread: 7 },
      { instance: 'a', thread: 0 },
    ]);
    // Same answer whatever the member order.
    const shuffled = { ...group, members: [...group.members].reverse() };
    assert.deepEqual(placeStandbys(shuffled, 'app', tasks, 2), two);
  });

  it('standbyReplicas must be an integer >= 0 (INVALID_CONFIG)', () => {
    const t = createEmbeddedTransport(tb.broker);
    for (const bad of [-1, 1.5, Number.NaN]) {
      assert.throws(
        () => new StreamRuntime(standbyCountApp('sb-bad'), { transport: t, standbyReplicas: bad }),
        (e: unknown) => (e as { code?: string }).code === 'INVALID_CONFIG',
        String(bad),
      );
    }
    assert.equal(new StreamRuntime(standbyCountApp('sb-ok'), { transport: t }).standbyReplicas, 0);
  });

  it("embedded transport: the survivor restores the stopped owner's tasks from its standbys", async () => {
    const t = createEmbeddedTransport(tb.broker);
    try {
      await standbyScenario(t, 'sb-embedded', async (id) => {
        const i = inProcess('sb-embedded', t, id);
        await i.runtime.start();
        return i;
      });
    } finally {
      await t.close();
    }
  });

  it('kafka transport: the owner is killed (SIGKILL) and the survivor restores from its standbys', async () => {
    const bootstrap = `127.0.0.1:${tb.broker.address.port}`;
    const t = createKafkaTransport({ bootstrap });
    try {
      await standbyScenario(t, 'sb-kafka', (id) => childInstance(bootstrap, 'sb-kafka', id));
    } finally {
      await t.close();
    }
  });
});
