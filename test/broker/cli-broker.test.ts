/**
 * `sluice broker` as a process (src/cli/main.ts through tsx): prints where it listens, serves
 * kcat, stops cleanly with exit 0 on SIGTERM and SIGINT (the next start finds clean-shutdown
 * markers and the data), and refuses with a clear message and exit 1 a port in use, a locked
 * data directory and an unusable one, with exit 2 a bad flag.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from './support/temp-log.js';

const ARGS = ['--import', 'tsx', 'src/cli/main.ts', 'broker'];

interface Running {
  child: ChildProcess;
  port: number;
  line: string;
  err: () => string;
}

async function start(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [...ARGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`broker exited ${code}: ${err}`)));
  });
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(line)?.[1]);
  return { child, port, line, err: () => err };
}

function run(args: string[]): { code: number | null; err: string } {
  const r = spawnSync(process.execPath, [...ARGS, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, err: r.stderr };
}

function kcat(args: string[], input?: string): string {
  const r = spawnSync('kcat', args, { input, encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('sluice broker', { timeout: 120_000 }, () => {
  it('listens, serves, stops cleanly on SIGTERM and SIGINT and restarts on its data', async () => {
    const tmp = tempDir();
    try {
      const dataDir = join(tmp.dir, 'data');
      let b = await start(['--port', '0', '--data-dir', dataDir, '--default-partitions', '2']);
      assert.match(b.line, /^sluice broker listening on 127\.0\.0\.1:\d+ .*data dir /);
      assert.ok(b.port > 0);
      const broker = `127.0.0.1:${b.port}`;
      kcat(['-P', '-b', broker, '-t', 'cli', '-p', '0', '-K:'], 'k1:v1\nk2:v2\n');
      b.child.kill('SIGTERM');
      const [code] = await once(b.child, 'exit');
      assert.equal(code, 0, b.err());

      b = await start(['--port', '0', '--data-dir', dataDir]);
      const out = kcat([
        '-C',
        '-b',
        `127.0.0.1:${b.port}`,
        '-t',
        'cli',
        '-p',
        '0',
        '-e',
        '-q',
        '-f',
        '%k=%s\n',
      ]);
      assert.equal(out, 'k1=v1\nk2=v2\n');
      assert.doesNotMatch(b.err(), /unclean shutdown/, 'the clean shutdown left its markers');
      const meta = kcat(['-L', '-b', `127.0.0.1:${b.port}`, '-t', 'cli']);
      assert.match(meta, /2 partitions/);

      // while it runs: the same port and the same data directory are refused (exit 1)
      const samePort = run(['--port', String(b.port), '--data-dir', join(tmp.dir, 'other')]);
      assert.equal(samePort.code, 1);
      assert.match(samePort.err, /already in use/);
      const sameDir = run(['--port', '0', '--data-dir', dataDir]);
      assert.equal(sameDir.code, 1);
      assert.match(sameDir.err, /in use by process/);

      b.child.kill('SIGINT');
      const [code2] = await once(b.child, 'exit');
      assert.equal(code2, 0, b.err());
    } finally {
      tmp.remove();
    }
  });

  it('refuses bad flags (exit 2) and an unusable data directory (exit 1)', () => {
    const tmp = tempDir();
    try {
      const badPort = run(['--port', 'x']);
      assert.equal(badPort.code, 2);
      assert.match(badPort.err, /--port/);
      const badFlag = run(['--no-such-flag']);
      assert.equal(badFlag.code, 2);
      const file = join(tmp.dir, 'file');
      writeFileSync(file, 'x');
      const notDir = run(['--port', '0', '--data-dir', join(file, 'data')]);
      assert.equal(notDir.code, 1);
      assert.match(notDir.err, /data directory .* is not usable/);
      const cfg = join(tmp.dir, 'cfg.json');
      writeFileSync(cfg, JSON.stringify({ defaultPartitions: 0 }));
      const badCfg = run(['--config', cfg, '--port', '0', '--data-dir', join(tmp.dir, 'd')]);
      assert.equal(badCfg.code, 2);
      assert.match(badCfg.err, /defaultPartitions/);
    } finally {
      tmp.remove();
    }
  });
});
