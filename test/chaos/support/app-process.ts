/**
 * Process control for the stream chaos tests: `sluice run` instances as real child processes
 * (`node --import tsx src/cli/main.ts run <app> …`), killed with SIGKILL, restarted with the
 * same arguments (same instance id, so the same transactional ids fence the dead
 * incarnation), or stopped with SIGTERM (clean shutdown must exit 0).
 *
 * Each instance keeps the last lines of everything its incarnations wrote (stdout and stderr,
 * each line prefixed `#<incarnation>`), for failure messages; the latest `{"metrics":…}` line
 * is parsed. `ChaosLog` is the seeded schedule's record: every action with its time since the
 * start, printed on failure (and in the test output) so a run can be replayed with its seed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = new URL('../../../', import.meta.url).pathname;
const TAIL_LINES = 80;

export interface AppProcessSpec {
  /** The application file. */
  readonly app: string;
  /** Flags after `run <app>`. */
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

export class AppInstance {
  private child: ChildProcess | null = null;
  private lines: string[] = [];
  /** Incarnations started so far. */
  starts = 0;
  /** The last metrics object printed (--metrics-interval-ms), if any. */
  lastMetrics: Record<string, unknown> | null = null;
  /** The current incarnation logged that it is running (joined its group). */
  ready = false;

  constructor(
    readonly name: string,
    private readonly spec: AppProcessSpec,
  ) {}

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.starts++;
    this.ready = false;
    const n = this.starts;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'run', this.spec.app, ...this.spec.args],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, SLUICE_LOG_LEVEL: 'info', ...this.spec.env },
      },
    );
    this.child = child;
    const take = (stream: NodeJS.ReadableStream | null) => {
      let partial = '';
      stream?.on('data', (d) => {
        const parts = (partial + String(d)).split('\n');
        partial = parts.pop() as string;
        for (const line of parts) this.line(n, child, line);
      });
    };
    take(child.stdout);
    take(child.stderr);
    child.once('exit', (code, signal) => this.push(n, `exited code=${code} signal=${signal}`));
  }

  private line(n: number, child: ChildProcess, line: string): void {
    if (line.startsWith('{"metrics"')) {
      try {
        this.lastMetrics = (JSON.parse(line) as { metrics: Record<string, unknown> }).metrics;
      } catch {
        // a torn line: keep the previous metrics
      }
      return;
    }
    if (child === this.child && line.includes('"msg":"running"')) this.ready = true;
    this.push(n, line.length > 600 ? `${line.slice(0, 600)}…` : line);
  }

  private push(n: number, line: string): void {
    // SLUICE_CHAOS_LOG_DIR: every line of every incarnation, in <dir>/<instance>.log (debugging)
    const dir = process.env.SLUICE_CHAOS_LOG_DIR;
    if (dir !== undefined) appendFileSync(join(dir, `${this.name}.log`), `#${n} ${line}\n`);
    this.lines.push(`#${n} ${line}`);
    if (this.lines.length > 2 * TAIL_LINES) this.lines = this.lines.slice(-TAIL_LINES);
  }

  /** Resolves once the current incarnation logged that it runs; throws if it exits first. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ready) {
      if (!this.running) throw new Error(`${this.name} exited before it was running:\n${this.tail()}`);
      if (Date.now() > deadline)
        throw new Error(`${this.name} not running within ${timeoutMs} ms:\n${this.tail()}`);
      await sleep(50);
    }
  }

  /** SIGKILL; false when nothing was running. */
  async kill9(): Promise<boolean> {
    const c = this.child;
    if (c === null || !this.running) return false;
    const exited = once(c, 'exit');
    c.kill('SIGKILL');
    await exited;
    return true;
  }

  /** SIGTERM and wait (up to timeoutMs, then SIGKILL); the exit code (null if killed). */
  async terminate(timeoutMs = 30_000): Promise<number | null> {
    const c = this.child;
    if (c === null || !this.running) return c?.exitCode ?? null;
    const exited = once(c, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    const [code] = await exited;
    clearTimeout(timer);
    return code;
  }

  /** The last lines of every incarnation's output. */
  tail(lines = 40): string {
    const metrics =
      this.lastMetrics === null ? [] : [`last metrics: ${JSON.stringify(this.lastMetrics).slice(0, 2000)}`];
    return [...this.lines.slice(-lines), ...metrics].map((l) => `  [${this.name}] ${l}`).join('\n');
  }
}

export class ChaosLog {
  private readonly t0 = Date.now();
  readonly entries: string[] = [];

  constructor(readonly seed: number) {}

  add(what: string): void {
    const line = `+${((Date.now() - this.t0) / 1000).toFixed(2)}s ${what}`;
    this.entries.push(line);
    if (process.env.SLUICE_CHAOS_VERBOSE === '1') process.stdout.write(`# ${line}\n`);
  }

  toString(): string {
    return `seed ${this.seed} (rerun with SLUICE_CHAOS_SEED=${this.seed}):\n  ${this.entries.join('\n  ')}`;
  }
}

/** The seed of this run: SLUICE_CHAOS_SEED, else a fresh one (printed by the caller). */
export function chaosSeed(): number {
  const s = process.env.SLUICE_CHAOS_SEED;
  return s === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(s);
}
