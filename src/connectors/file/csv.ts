/**
 * CSV as RFC 4180 writes it (the dialect DuckDB, Flink's csv format and spreadsheets read):
 * fields separated by ',', lines ended by '\n'; a field containing ',', '"', '\r' or '\n' is
 * quoted with '"' and its quotes doubled. null/undefined is the empty field. Numbers print as
 * JavaScript prints them (integers exactly up to 2^53), booleans as true/false, anything
 * else as its JSON text.
 *
 * parseCsv is the inverse for the bounded inputs the file connector reads (side-input tables):
 * quoted fields may span lines; a file that ends inside a quoted field is CORRUPT_RECORD.
 */
import { SluiceError } from '../../common/index.js';

const NEEDS_QUOTES = /[",\r\n]/;

export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line (with its '\n') of `columns` taken from a row object. */
export function csvLine(row: Record<string, unknown>, columns: readonly string[]): string {
  let line = csvField(row[columns[0]]);
  for (let i = 1; i < columns.length; i++) line += `,${csvField(row[columns[i]])}`;
  return `${line}\n`;
}

/** Splits CSV text into rows of fields (strings; the empty field is ''). */
export function parseCsv(text: string, what = 'CSV'): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  const n = text.length;
  let atFieldStart = true;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (atFieldStart && c === 34 /* " */) {
      // Quoted field: up to the closing quote; "" is one quote.
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new SluiceError('CORRUPT_RECORD', `${what}: unterminated quoted field`);
        field += text.slice(i, q);
        if (text.charCodeAt(q + 1) === 34) {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      atFieldStart = false;
      continue;
    }
    if (c === 44 /* , */) {
      row.push(field);
      field = '';
      atFieldStart = true;
      i++;
    } else if (c === 10 /* \n */ || c === 13 /* \r */) {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      atFieldStart = true;
      i += c === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
    } else {
      field += text[i];
      atFieldStart = false;
      i++;
    }
  }
  if (!atFieldStart || field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
