/**
 * Shared fixtures for the CLI client-command tests: a real Sluice broker (TCP server over
 * log/'s LogManager, which the broker opens, in a temp data directory, 127.0.0.1 port 0) and `cli()`, which runs
 * the CLI in-process through runCli and captures stdout/stderr.
 *
 * Every broker started here must be closed with `stop()`, which also removes its directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, resolveBrokerConfig } from '../../src/broker/index.js';
import { runCli } from '../../src/cli/index.js';

export interface TestBroker {
  bootstrap: string;
  broker: Broker;
  stop(): Promise<void>;
}

export async function startBroker(
  flags: Record<string, unknown> = {},
  file: Record<string, unknown> = {},
): Promise<TestBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
  const config = resolveBrokerConfig({
    file,
    flags: { host: '127.0.0.1', port: 0, dataDir, groupInitialRebalanceDelayMs: 200, ...flags },
  });
  // The broker opens (and on close, closes) its own LogManager on dataDir.
  const broker = await Broker.start(config);
  return {
    bootstrap: `127.0.0.1:${broker.address.port}`,
    broker,
    async stop() {
      await broker.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export async function cli(...argv: string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}
