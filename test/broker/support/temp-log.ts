/**
 * Broker tests run on the real log: a LogManager in a fresh temporary directory, removed again
 * by `close`. `defaults` can relax durability (flush.ms -1) for tests that only need behaviour.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LogConfig, LogManager } from '../../../src/log/index.js';

export interface TempLogs {
  dir: string;
  logs: LogManager;
  /** Closes the manager (clean shutdown) and removes the directory. */
  close(): Promise<void>;
}

export function tempDir(prefix = 'sluice-broker-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function tempLogs(defaults: Partial<LogConfig> = {}): Promise<TempLogs> {
  const { dir, remove } = tempDir();
  const logs = await LogManager.open({ dataDir: dir, defaults });
  return {
    dir,
    logs,
    close: async () => {
      await logs.close().catch(() => undefined);
      remove();
    },
  };
}
