#!/usr/bin/env node
// The installed `sluice` binary. Runs the compiled CLI from dist/; in a source checkout
// where dist/ has not been built yet, it says how to build instead of failing obscurely.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write("sluice: not built yet. Run 'npm run setup' (or 'npm run build') in the sluice checkout first.\n");
  process.exit(1);
}
await import(entry.href);
