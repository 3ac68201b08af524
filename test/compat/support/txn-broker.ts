/**
 * Starts a Sluice broker over a real LogManager in a data directory (for the transaction
 * compatibility and chaos tests). As a module: `startBroker(dir, port)`; run as a script
 * (`node --import tsx txn-broker.ts <dir> <port>`) it prints `LISTENING <port>` and runs until
 * SIGTERM (clean close) or SIGKILL (crash: the next start recovers the logs and completes or
 * aborts unfinished transactions).
 */
import { Broker, resolveBrokerConfig } from '../../../src/broker/index.js';
import { LogManager } from '../../../src/log/index.js';

export interface RunningBroker {
  broker: Broker;
  logs: LogManager;
  port: number;
  close(): Promise<void>;
}

export async function startBroker(dataDir: string, port = 0): Promise<RunningBroker> {
  const logs = await LogManager.open({ dataDir, defaults: { 'flush.ms': -1 } });
  const config = resolveBrokerConfig({
    flags: {
      port,
      host: '127.0.0.1',
      groupInitialRebalanceDelayMs: 0,
      groupMinSessionTimeoutMs: 500,
      defaultPartitions: 1,
    },
  });
  const broker = await Broker.start(config, { logs, txnAbortCheckMs: 200 });
  return {
    broker,
    logs,
    port: broker.address.port,
    async close() {
      await broker.close();
      await logs.close();
    },
  };
}

if (process.argv[1]?.endsWith('txn-broker.ts')) {
  const [dir, port] = process.argv.slice(2);
  const b = await startBroker(dir as string, Number(port ?? 0));
  process.stdout.write(`LISTENING ${b.port}\n`);
  const stop = () => void b.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
