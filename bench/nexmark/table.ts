/**
 * Turns run.ts's JSON lines (stdin) into the markdown table of docs/NEXMARK.md.
 * Run: node --import tsx bench/nexmark/run.ts --all | node --import tsx bench/nexmark/table.ts
 */
import { text } from 'node:stream/consumers';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').replace(/,/g, ' ');
const rows = (await text(process.stdin))
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l));
console.log(
  '| query | events | outputs | events/s (wall, 1 thread) | events / CPU s | peak heap | Flink 1.13 per core | × Flink (wall) |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const flink = r.flinkPerCore === null ? '—' : `${r.flinkPerCore / 1000} K`;
  const ratio = r.ratioToFlink === null ? '—' : r.ratioToFlink.toFixed(1);
  console.log(
    `| ${r.query} | ${fmt(r.events)} | ${fmt(r.outputs)} | ${fmt(r.eventsPerSecondPerCore)} | ${fmt(r.eventsPerCpuSecond)} | ${r.peakHeapMB} MB | ${flink} | ${ratio} |`,
  );
}
