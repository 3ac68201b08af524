#!/usr/bin/env node
// Runs the test suite with Node's own test runner and tsx (tests import src/ as TypeScript).
//
//   node scripts/run-tests.mjs                 every test/**/*.test.ts
//   node scripts/run-tests.mjs test/log        only tests under test/log
//   SLUICE_TEST_CONCURRENCY=1 …               files run one at a time
//
// Before the tests: the type check (tsc) and the linter (biome), so a type error or a
// lint error fails the run as a failing test would. SLUICE_SKIP_CHECKS=1 skips them.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);

function findTests(dir) {
  let st;
  try {
    st = statSync(dir);
  } catch {
    return [];
  }
  if (st.isFile()) return dir.endsWith('.test.ts') ? [dir] : [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name === 'fixtures') continue;
    out.push(...findTests(join(dir, name)));
  }
  return out;
}

const args = process.argv.slice(2);
const roots = args.length > 0 ? args : ['test'];
const files = roots.flatMap((r) => findTests(r)).map((f) => relative(root, f));
if (files.length === 0) {
  console.error(`no test files found under ${roots.join(', ')}`);
  process.exit(1);
}

function step(name, cmd, cmdArgs) {
  const t0 = Date.now();
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`${name} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
  console.log(`${name}: ok (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

if (process.env.SLUICE_SKIP_CHECKS !== '1' && args.length === 0) {
  step('typecheck', 'npx', ['--no-install', 'tsc', '-p', 'tsconfig.json']);
  step('lint', 'npx', ['--no-install', 'biome', 'check', '.']);
}

const concurrency = process.env.SLUICE_TEST_CONCURRENCY ?? '2';
// A test file whose tests pass but whose process never exits (a client left connected, a
// timer left running) would hold the runner until CI's own limit. The watchdog ends the run
// with a clear message instead. SLUICE_TEST_WALL_LIMIT_S overrides the 45-minute default.
const wallLimitMs = Number(process.env.SLUICE_TEST_WALL_LIMIT_S ?? 2700) * 1000;
const r = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    `--test-timeout=${process.env.SLUICE_TEST_TIMEOUT_MS ?? 600000}`,
    ...files,
  ],
  {
    stdio: 'inherit',
    timeout: wallLimitMs,
    killSignal: 'SIGKILL',
    env: { ...process.env, SLUICE_LOG_LEVEL: process.env.SLUICE_LOG_LEVEL ?? 'silent' },
  },
);
if (r.error?.code === 'ETIMEDOUT' || (r.status === null && r.signal === 'SIGKILL')) {
  console.error(
    `test run exceeded ${wallLimitMs / 1000} s and was stopped: a test file did not exit (look for an open client or timer)`,
  );
  process.exit(1);
}
process.exit(r.status ?? 1);
