/**
 * Exactly-once under kill -9, with real processes: a Sluice broker process over a temp data
 * dir, 200 000 input records, and a read-process-write worker process (support/txn-worker.ts:
 * kafkajs, one transaction per fetched batch carrying the output and the consumed offsets).
 * The worker is SIGKILLed at random points at least 10 times and restarted; the broker itself
 * is SIGKILLed and restarted (same port, same data) at least 3 times. At the end the
 * read_committed output (read with kcat) must hold every input value exactly once.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../helpers/broker-process.js';

const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require('kafkajs') as typeof import('kafkajs');

const INPUT = 200_000;
const WORKER_KILLS = 10;
const BROKER_KILLS = 3;
/** The worker's pace (records/s): 200 000 records take >= 10 s of processing. */
const WORKER_RATE = 20_000;
const here = new URL('.', import.meta.url).pathname;
const BROKER_SCRIPT = join(here, '../compat/support/txn-broker.ts');
const WORKER_SCRIPT = join(here, 'support/txn-worker.ts');

function node(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

async function waitLine(child: ChildProcess, word: string, ms: number): Promise<void> {
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${word} within ${ms} ms`)), ms);
    child.stdout?.on('data', (d) => {
      buf += d;
      if (buf.includes(word)) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('exit', () => {
      clearTimeout(t);
      reject(new Error(`exited before ${word}`));
    });
  });
}

/** SIGKILLs a running child; false when there was none to kill. */
async function kill(child: ChildProcess | null): Promise<boolean> {
  if (child === null || child.exitCode !== null || child.signalCode !== null) return false;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
  return true;
}

async function run(cmd: string, args: string[], input?: string): Promise<string> {
  const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  if (input !== undefined) child.stdin?.end(input);
  const [code] = await once(child, 'close');
  assert.equal(code, 0, `${cmd} ${args.join(' ')} failed`);
  return out;
}

describe('exactly-once chaos', { timeout: 300_000 }, () => {
  it(`read-process-write over ${INPUT} records survives ${WORKER_KILLS} worker and ${BROKER_KILLS} broker kill -9s`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-txn-chaos-'));
    const port = await freePort();
    const bootstrap = `127.0.0.1:${port}`;
    let broker: ChildProcess | null = null;
    let worker: ChildProcess | null = null;
    let stopping = false;
    let workerStarts = 0;
    /** The running worker committed a transaction (it is mid-run, not starting up). */
    let workerReady = false;
    const startBroker = async () => {
      broker = node(BROKER_SCRIPT, [dir, String(port)]);
      await waitLine(broker, 'LISTENING', 30_000);
    };
    const startWorker = () => {
      if (stopping) return;
      workerStarts++;
      const w = node(WORKER_SCRIPT, [String(port), String(WORKER_RATE)]);
      worker = w;
      workerReady = false;
      w.stdout?.on('data', (d) => {
        if (String(d).includes('COMMITTED') && worker === w) workerReady = true;
      });
      w.once('exit', () => {
        if (worker === w) worker = null;
        if (!stopping) setTimeout(startWorker, 200);
      });
    };
    try {
      await startBroker();
      const kafka = new Kafka({
        clientId: 'chaos-test',
        brokers: [bootstrap],
        logLevel: logLevel.NOTHING,
        retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({
        topics: [
          { topic: 'chaos-in', numPartitions: 4 },
          { topic: 'chaos-out', numPartitions: 4 },
        ],
      });
      await admin.disconnect();
      const lines = Array.from({ length: INPUT }, (_, i) => String(i)).join('\n');
      await run('kcat', ['-P', '-b', bootstrap, '-t', 'chaos-in', '-X', 'linger.ms=20'], `${lines}\n`);

      /** Sum of the group's committed offsets and of the input's end offsets. */
      const progress = async (): Promise<{ committed: number; end: number } | null> => {
        const a = kafka.admin();
        try {
          await a.connect();
          const ends = await a.fetchTopicOffsets('chaos-in');
          const committed = await a.fetchOffsets({ groupId: 'chaos', topics: ['chaos-in'] });
          return {
            end: ends.reduce((s, p) => s + Number(p.high), 0),
            committed: (committed[0]?.partitions ?? []).reduce(
              (s, p) => s + Math.max(0, Number(p.offset)),
              0,
            ),
          };
        } catch {
          return null;
        } finally {
          await a.disconnect().catch(() => undefined);
        }
      };
      const seeded = await progress();
      assert.equal(seeded?.end, INPUT, 'every input record is in chaos-in');

      startWorker();
      let workerKills = 0;
      let brokerKills = 0;
      /** Committed input at each kill: the kills must land while the loop is running. */
      const killedAt: number[] = [];
      const deadline = Date.now() + 240_000;
      for (;;) {
        assert.ok(Date.now() < deadline, 'the loop finishes in time');
        const p = await progress();
        const done = p !== null && p.committed >= INPUT;
        if (done && workerKills >= WORKER_KILLS && brokerKills >= BROKER_KILLS) break;
        if (done) {
          // Finished before enough chaos: the kills still count only if they happened mid-run.
          assert.fail(`processing finished after only ${workerKills} worker / ${brokerKills} broker kills`);
        }
        // Kill a worker that is processing: after its first commit, at a random point.
        const readyBy = Date.now() + 20_000;
        while (!workerReady && Date.now() < readyBy) await sleep(50);
        await sleep(Math.floor(Math.random() * 600));
        if (workerKills < WORKER_KILLS && workerReady) {
          const committedNow = p?.committed ?? -1;
          if (await kill(worker)) {
            killedAt.push(committedNow);
            workerKills++;
          }
        }
        if (brokerKills < BROKER_KILLS && workerKills >= 3 * (brokerKills + 1)) {
          assert.ok(await kill(broker), 'the broker was running');
          brokerKills++;
          await startBroker();
        }
      }
      stopping = true;
      await kill(worker);
      const midRun = killedAt.filter((c) => c < INPUT);
      process.stdout.write(`# committed input when each worker kill was scheduled: ${killedAt.join(', ')}\n`);
      assert.ok(midRun.length >= WORKER_KILLS, 'every worker kill landed before the input was done');

      const out = await run('kcat', [
        '-C',
        '-b',
        bootstrap,
        '-t',
        'chaos-out',
        '-o',
        'beginning',
        '-e',
        '-q',
        '-f',
        '%s\\n',
        '-X',
        'isolation.level=read_committed',
      ]);
      const counts = new Uint8Array(INPUT);
      let total = 0;
      let foreign = 0;
      for (const line of out.split('\n')) {
        if (line.length === 0) continue;
        total++;
        const v = Number(line);
        if (!Number.isInteger(v) || v < 0 || v >= INPUT) foreign++;
        else counts[v] = Math.min(255, (counts[v] as number) + 1);
      }
      const missing = counts.reduce((s, c) => s + (c === 0 ? 1 : 0), 0);
      const duplicated = counts.reduce((s, c) => s + (c > 1 ? 1 : 0), 0);
      assert.equal(foreign, 0, 'no value outside the input');
      assert.equal(missing, 0, 'no input lost');
      assert.equal(duplicated, 0, 'no input duplicated');
      assert.equal(total, INPUT);
      assert.ok(workerStarts > WORKER_KILLS, 'the worker was restarted after every kill');
    } finally {
      stopping = true;
      await kill(worker);
      if (broker !== null) {
        const b = broker as ChildProcess;
        if (b.exitCode === null && b.signalCode === null) {
          const exited = once(b, 'exit');
          b.kill('SIGTERM');
          await Promise.race([exited, sleep(5000)]);
          await kill(b);
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
