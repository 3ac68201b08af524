/**
 * A Sluice broker for the transport suite, on port 0 in a fresh temporary directory, with
 * group settings short enough that rebalances take a fraction of a second (both the embedded
 * and the kafka transport tests use it, so the suite sees the same broker either way).
 * `close` stops the broker and removes the directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, resolveBrokerConfig } from '../../src/broker/index.js';

/** Session timeouts down to 1 s (the suite uses 3 s), a 100 ms initial rebalance delay. */
export const SUITE_BROKER_FLAGS = {
  port: 0,
  host: '127.0.0.1',
  groupInitialRebalanceDelayMs: 100,
  groupMinSessionTimeoutMs: 1000,
} as const;

export interface TestBroker {
  broker: Broker;
  dir: string;
  close(): Promise<void>;
}

export async function startTestBroker(): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-transport-'));
  let broker: Broker;
  try {
    broker = await Broker.start(resolveBrokerConfig({ flags: { ...SUITE_BROKER_FLAGS, dataDir: dir } }), {
      txnAbortCheckMs: 200,
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    broker,
    dir,
    close: async () => {
      try {
        await broker.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
