import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkImports, importSpecifiers } from './import-rules.js';

const repoSrc = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

function fakeTree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-arch-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  cleanups.push(dir);
  return dir;
}
const cleanups: string[] = [];
after(() => {
  for (const d of cleanups) rmSync(d, { recursive: true, force: true });
});

describe('import rules', () => {
  it('the real src/ tree follows ARCHITECTURE.md', () => {
    const violations = checkImports(repoSrc);
    assert.deepEqual(
      violations.map((v) => v.message),
      [],
    );
  });

  it('reads static, re-export, side-effect and dynamic imports, ignoring comments', () => {
    const specs = importSpecifiers(`
      import { a } from './a.js';
      import type { B } from "../b/index.js";
      export { c } from './c.js';
      export * from './d.js';
      import './side.js';
      const m = await import('./dyn.js');
      // import { no } from './commented.js';
      /* import { no2 } from './block.js'; */
      const url = 'http://example.invalid/x'; // from './not-an-import.js'
    `);
    assert.deepEqual(
      specs.sort(),
      ['../b/index.js', './a.js', './c.js', './d.js', './dyn.js', './side.js'].sort(),
    );
  });

  it('accepts allowed arrows through index.ts', () => {
    const src = fakeTree({
      'protocol/index.ts': 'export const x = 1;',
      'log/index.ts': "export { x } from '../protocol/index.js';",
      'log/segment.ts': "import { SluiceError } from '../common/index.js';",
      'common/index.ts': 'export class SluiceError {}',
    });
    assert.deepEqual(checkImports(src), []);
  });

  it('rejects a forbidden arrow (protocol importing log)', () => {
    const src = fakeTree({
      'protocol/index.ts': "import { y } from '../log/index.js'; export const x = y;",
      'log/index.ts': 'export const y = 1;',
    });
    const v = checkImports(src);
    assert.equal(v.length, 1);
    assert.equal(v[0]?.rule, 'forbidden-module');
    assert.match(v[0]?.message ?? '', /module 'protocol' may not import 'log'/);
  });

  it('rejects reaching into another module past its index.ts', () => {
    const src = fakeTree({
      'protocol/index.ts': 'export {};',
      'protocol/record-batch.ts': 'export const z = 1;',
      'log/index.ts': "import { z } from '../protocol/record-batch.js'; export const y = z;",
    });
    const v = checkImports(src);
    assert.equal(v.length, 1);
    assert.equal(v[0]?.rule, 'not-through-index');
  });

  it('rejects network built-ins in the protocol and log modules', () => {
    const src = fakeTree({
      'protocol/index.ts': "import { Socket } from 'node:net'; export const s = Socket;",
      'log/index.ts':
        "import * as http from 'http'; import { open } from 'node:fs/promises'; export { http, open };",
    });
    const v = checkImports(src);
    assert.deepEqual(v.map((x) => x.rule).sort(), ['forbidden-builtin', 'forbidden-builtin']);
  });

  it('rejects a module missing from the table', () => {
    const src = fakeTree({
      'cli/index.ts': "import { q } from '../mystery/index.js'; export { q };",
      'mystery/index.ts': 'export const q = 1;',
    });
    const v = checkImports(src);
    assert.ok(v.some((x) => x.rule === 'unknown-module'));
  });
});
