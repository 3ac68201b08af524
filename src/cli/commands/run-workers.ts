/**
 * WorkerPool: `sluice run --threads n` on the kafka transport runs each stream thread in its
 * own child process (run-worker.ts), so n threads use n cores. Not worker_threads: librdkafka's
 * addon (@confluentinc/kafka-javascript) is not context-aware, and a second thread loading it
 * fails with "Module did not self-register". The parent prepares the topics once
 * (StreamRuntime.prepare) before starting the children, aggregates their metrics and closes
 * them on shutdown: every child commits and leaves, then exits.
 *
 * Concurrency: IPC messages only. Crash behaviour: a child that exits unexpectedly is logged;
 * its tasks move to the other members after the session timeout. A parent killed with -9
 * takes its children with it (they exit on IPC disconnect).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLogger, type ErrorCode, SluiceError } from '../../common/index.js';
import type { RuntimeMetrics, ThreadMetrics } from '../../stream/index.js';
import type { RunWorkerData } from './run-worker.js';

interface WorkerMessage {
  type: 'ready' | 'error' | 'metrics' | 'closed';
  code?: ErrorCode;
  message?: string;
  metrics?: RuntimeMetrics;
}

export class WorkerPool {
  private readonly workers: ChildProcess[] = [];
  private readonly last: Array<RuntimeMetrics | undefined> = [];
  private readonly exited = new Set<number>();
  private readonly log = createLogger('cli', { command: 'run' });

  constructor(
    private readonly base: Omit<RunWorkerData, 'index'>,
    private readonly threads: number,
  ) {}

  async start(): Promise<void> {
    const here = import.meta.url;
    const ts = here.endsWith('.ts');
    const script = fileURLToPath(new URL(ts ? './run-worker.ts' : './run-worker.js', here));
    const ready = [];
    for (let i = 0; i < this.threads; i++) {
      const workerData = { ...this.base, index: i } satisfies RunWorkerData;
      // From TypeScript sources the child needs tsx; the parent's --import tsx is in execArgv.
      const execArgv =
        ts && !process.execArgv.includes('tsx') ? [...process.execArgv, '--import', 'tsx'] : process.execArgv;
      const w = fork(script, [JSON.stringify(workerData)], {
        execArgv,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      this.workers.push(w);
      this.last.push(undefined);
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'metrics') this.last[i] = m.metrics;
      });
      w.on('exit', (code) => {
        this.exited.add(i);
        if (code !== 0) this.log.warn({ worker: i, code }, 'stream worker exited');
      });
      ready.push(
        new Promise<void>((resolve, reject) => {
          const onMessage = (m: WorkerMessage) => {
            if (m.type === 'ready') resolve();
            else if (m.type === 'error')
              reject(new SluiceError(m.code ?? 'INTERNAL', m.message ?? 'worker failed'));
            else return;
            w.off('message', onMessage);
          };
          w.on('message', onMessage);
          w.once('error', reject);
          w.once('exit', (code) =>
            reject(new SluiceError('INTERNAL', `stream worker ${i} exited (${code})`)),
          );
        }),
      );
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /** Asks every worker for fresh metrics (lag included) and waits for the answers. */
  async refreshLag(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const on = (m: WorkerMessage) => {
              if (m.type !== 'metrics') return;
              w.off('message', on);
              resolve();
            };
            w.on('message', on);
            if (w.connected) w.send('metrics');
            else resolve();
            setTimeout(() => {
              w.off('message', on);
              resolve();
            }, 5_000).unref();
          }),
      ),
    );
  }

  metrics(): RuntimeMetrics {
    const got = this.last.filter((m): m is RuntimeMetrics => m !== undefined);
    const threads: ThreadMetrics[] = got.flatMap((m) => m.threads);
    const sum = (f: (m: RuntimeMetrics) => number) => got.reduce((a, m) => a + f(m), 0);
    return {
      applicationId: got[0]?.applicationId ?? '',
      instanceId: this.base.instanceId,
      guarantee: this.base.guarantee,
      threads,
      recordsIn: sum((m) => m.recordsIn),
      recordsOut: sum((m) => m.recordsOut),
      commits: sum((m) => m.commits),
      tasks: sum((m) => m.tasks),
    };
  }

  /** Every worker commits, leaves the group and ends. */
  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w, i) =>
          new Promise<void>((resolve) => {
            if (this.exited.has(i)) return resolve();
            w.once('exit', () => resolve());
            if (w.connected) w.send('close');
            // A child stuck in start (or not answering) is killed after 30 s.
            setTimeout(() => w.kill('SIGKILL'), 30_000).unref();
          }),
      ),
    );
  }
}
