/**
 * Logging: one pino root logger; each module takes a child named after itself
 * (`createLogger('log')`, `createLogger('broker')`), so every line says where it came from.
 *
 * Level comes from SLUICE_LOG_LEVEL (default `info`; `silent` in tests unless set).
 * Output is JSON lines on stderr, so stdout stays free for data (`sluice consume`).
 */
import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

function defaultLevel(): string {
  const configured = process.env.SLUICE_LOG_LEVEL;
  if (configured !== undefined && LEVELS.has(configured)) return configured;
  if (process.env.NODE_TEST_CONTEXT !== undefined) return 'silent';
  return 'info';
}

let root: Logger | undefined;

export function rootLogger(): Logger {
  root ??= pino(
    { level: defaultLevel(), base: { pid: process.pid } },
    pino.destination({ fd: 2, sync: false }),
  );
  return root;
}

export function createLogger(module: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger().child({ module, ...bindings });
}

export function setLogLevel(level: string): void {
  if (!LEVELS.has(level)) throw new Error(`unknown log level ${level}`);
  rootLogger().level = level;
}
