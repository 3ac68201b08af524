/**
 * Child process of file-sink.test.ts's kill -9 test: writes rows {id, p, text} through a
 * FileSink into argv[2] (task id argv[3]) forever, in batches of 2 000 spread over four
 * partitions, publishing (prepareCommit) after each batch and then printing
 * `committed <rows so far>` — so every id below a printed number is durable in a visible file.
 * (The test checks texts with the same textOf; keep the two in step.)
 */
import { FileSink } from '../../../../src/connectors/index.js';
import { StreamRecord } from '../../../../src/stream/index.js';

const [dir, taskId] = process.argv.slice(2);
const sink = new FileSink('out', { path: dir, taskId, columns: ['id', 'text'], partitionBy: ['p'] });
const textOf = (id: number) => `row ${id}, "quoted" ${'x'.repeat(id % 300)}`;
let id = 0;
for (;;) {
  const batch: StreamRecord[] = [];
  for (let i = 0; i < 2000; i++, id++)
    batch.push(new StreamRecord(null, { id, p: `p:${id % 4}`, text: textOf(id) }, 0));
  sink.write(batch);
  sink.prepareCommit();
  sink.commit();
  process.stdout.write(`committed ${id}\n`);
}
