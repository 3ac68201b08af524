/**
 * The import rules of ARCHITECTURE.md's module table, as data and a checker.
 *
 * A file's module is its first folder under `src/` (files directly in `src/` are the
 * package entry, which may import every module). Rules:
 *   1. A module imports another only where MODULE_RULES allows it (`common` is allowed to all).
 *   2. Across modules, only the target's `index.ts` may be imported (its public face).
 *   3. Some modules may not use some Node built-ins (protocol is bytes only; log has no network).
 * Imports are read as text (static `import`/`export … from`, and `import('…')` with a literal).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export const MODULE_RULES: Readonly<Record<string, readonly string[]>> = {
  common: [],
  protocol: [],
  log: ['protocol'],
  broker: ['protocol', 'log'],
  transport: ['broker', 'protocol'],
  stream: ['transport', 'registry'],
  registry: ['transport'],
  connectors: ['stream', 'registry', 'transport'],
  sql: ['stream', 'connectors'],
  ops: ['protocol', 'log', 'broker', 'transport', 'stream', 'registry', 'connectors', 'sql'],
  cli: ['protocol', 'log', 'broker', 'transport', 'stream', 'registry', 'connectors', 'sql', 'ops'],
};

/** Built-ins a module must not touch: protocol is bytes only, the log has no network code. */
export const FORBIDDEN_BUILTINS: Readonly<Record<string, readonly string[]>> = {
  protocol: [
    'net',
    'fs',
    'fs/promises',
    'http',
    'https',
    'http2',
    'tls',
    'dgram',
    'timers',
    'timers/promises',
    'child_process',
  ],
  log: ['net', 'http', 'https', 'http2', 'tls', 'dgram'],
};

export interface Violation {
  file: string;
  specifier: string;
  rule: 'forbidden-module' | 'not-through-index' | 'forbidden-builtin' | 'unknown-module';
  message: string;
}

const IMPORT_RE =
  /(?:^|[\s;}])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;(=])import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

export function importSpecifiers(source: string): string[] {
  const withoutComments = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out: string[] = [];
  for (const m of withoutComments.matchAll(IMPORT_RE)) out.push((m[1] ?? m[2] ?? m[3]) as string);
  return out;
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTs(p));
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function moduleOf(srcRoot: string, file: string): string | undefined {
  const rel = relative(srcRoot, file).split(sep);
  return rel.length > 1 ? rel[0] : undefined;
}

export function checkImports(srcRoot: string): Violation[] {
  const root = resolve(srcRoot);
  const violations: Violation[] = [];
  for (const file of listTs(root)) {
    const from = moduleOf(root, file);
    const source = readFileSync(file, 'utf8');
    for (const specifier of importSpecifiers(source)) {
      const relFile = relative(root, file);
      if (!specifier.startsWith('.')) {
        const builtin = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
        if (from !== undefined && FORBIDDEN_BUILTINS[from]?.includes(builtin)) {
          violations.push({
            file: relFile,
            specifier,
            rule: 'forbidden-builtin',
            message: `${relFile}: module '${from}' may not import '${specifier}'`,
          });
        }
        continue;
      }
      const target = resolve(dirname(file), specifier).replace(/\.js$/, '.ts');
      const to = moduleOf(root, target);
      if (to === undefined || to === from) continue;
      if (!relative(root, target).startsWith('..') && MODULE_RULES[to] === undefined) {
        violations.push({
          file: relFile,
          specifier,
          rule: 'unknown-module',
          message: `${relFile}: imports '${to}', a module not in ARCHITECTURE.md's table`,
        });
        continue;
      }
      if (from !== undefined) {
        const allowed = MODULE_RULES[from];
        if (allowed === undefined) {
          violations.push({
            file: relFile,
            specifier,
            rule: 'unknown-module',
            message: `${relFile}: module '${from}' is not in ARCHITECTURE.md's table`,
          });
          continue;
        }
        if (to !== 'common' && !allowed.includes(to)) {
          violations.push({
            file: relFile,
            specifier,
            rule: 'forbidden-module',
            message: `${relFile}: module '${from}' may not import '${to}' (allowed: ${allowed.join(', ') || 'none'})`,
          });
          continue;
        }
      }
      if (relative(join(root, to), target) !== 'index.ts') {
        violations.push({
          file: relFile,
          specifier,
          rule: 'not-through-index',
          message: `${relFile}: imports '${specifier}' inside '${to}'; import '${to}/index.js' instead`,
        });
      }
    }
  }
  return violations;
}
