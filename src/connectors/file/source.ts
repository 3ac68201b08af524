/**
 * Bounded file inputs: a CSV file read whole as rows (`readCsvRows`) and as a stream Source
 * (`CsvFileSource`) that delivers them to one named input — e.g. a table input the
 * application joins a stream with (a bounded side input, Nexmark q13). Run it before the
 * stream's source (`SequenceSource`) so the table is complete when the first stream record
 * arrives, as Flink loads a bounded lookup table.
 *
 * Format: csv.ts's dialect, no header line; each line's fields are the declared columns in
 * order ('number' fields must parse as finite numbers, the empty field is null). A line with
 * another number of fields, or a bad number, is CORRUPT_RECORD naming the file and line.
 * Records: key null, value the row object, timestamp `timestampOf(row)` (default 0).
 * The file is read once, on construction; nothing is written.
 */
import { readFileSync } from 'node:fs';
import { SluiceError } from '../../common/index.js';
import { type Source, type SourceBatch, StreamRecord } from '../../stream/index.js';
import { parseCsv } from './csv.js';

export interface CsvColumn {
  readonly name: string;
  readonly type: 'number' | 'string';
}

export function readCsvRows(path: string, columns: readonly CsvColumn[]): Record<string, unknown>[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SluiceError('NOT_FOUND', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseCsv(text, path).map((fields, i) => {
    if (fields.length !== columns.length)
      throw new SluiceError(
        'CORRUPT_RECORD',
        `${path}:${i + 1}: ${fields.length} fields, expected ${columns.length} (${columns.map((c) => c.name).join(',')})`,
      );
    const row: Record<string, unknown> = {};
    for (let c = 0; c < columns.length; c++) {
      const col = columns[c];
      const f = fields[c];
      if (f === '') row[col.name] = null;
      else if (col.type === 'number') {
        const n = Number(f);
        if (!Number.isFinite(n))
          throw new SluiceError('CORRUPT_RECORD', `${path}:${i + 1}: ${col.name} '${f}' is not a number`);
        row[col.name] = n;
      } else row[col.name] = f;
    }
    return row;
  });
}

/** A CSV file's rows as a bounded Source for one input (partition 0). */
export class CsvFileSource implements Source {
  private readonly rows: Record<string, unknown>[];
  private pos = 0;
  constructor(
    readonly path: string,
    readonly input: string,
    columns: readonly CsvColumn[],
    private readonly timestampOf: (row: Record<string, unknown>) => number = () => 0,
  ) {
    this.rows = readCsvRows(path, columns);
  }

  get done(): boolean {
    return this.pos >= this.rows.length;
  }

  poll(maxRecords: number): SourceBatch[] {
    const end = Math.min(this.rows.length, this.pos + maxRecords);
    if (end <= this.pos) return [];
    const records: StreamRecord[] = [];
    for (let i = this.pos; i < end; i++) {
      const row = this.rows[i];
      records.push(new StreamRecord(null, row, this.timestampOf(row)));
    }
    this.pos = end;
    return [{ input: this.input, partition: 0, records, nextOffset: end }];
  }
}

/** Bounded sources drained one after another (side inputs first, then the stream). */
export class SequenceSource implements Source {
  private i = 0;
  constructor(readonly sources: ReadonlyArray<Source & { readonly done?: boolean }>) {}

  get done(): boolean {
    while (this.i < this.sources.length && this.sources[this.i].done === true) this.i++;
    return this.i >= this.sources.length;
  }

  poll(maxRecords: number): SourceBatch[] | Promise<SourceBatch[]> {
    if (this.done) return [];
    return this.sources[this.i].poll(maxRecords);
  }
}
