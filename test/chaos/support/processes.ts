/**
 * Process helpers for the chaos tests (not a test file): a free TCP port, a child's stdout
 * line matching a pattern, and kill -9 that waits for the exit.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from '../../helpers/net.js';

/** Resolves with the first match of `pattern` in the child's stdout; rejects on exit or after `ms`. */
export async function waitLine(
  child: ChildProcess,
  pattern: string | RegExp,
  ms: number,
): Promise<RegExpMatchArray> {
  const re =
    typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
  let buf = '';
  return new Promise<RegExpMatchArray>((resolve, reject) => {
    const done = () => {
      clearTimeout(t);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    const onData = (d: Buffer | string) => {
      buf += d;
      const m = re.exec(buf);
      if (m !== null) {
        done();
        resolve(m);
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      done();
      reject(new Error(`exited (${code ?? signal}) before ${re}`));
    };
    const t = setTimeout(() => {
      done();
      reject(new Error(`no ${re} within ${ms} ms`));
    }, ms);
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** SIGKILLs a running child and waits for its exit; false when there was none to kill. */
export async function kill(child: ChildProcess | null | undefined): Promise<boolean> {
  if (child === null || child === undefined || child.exitCode !== null || child.signalCode !== null)
    return false;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
  return true;
}
export { freePort };
