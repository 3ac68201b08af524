/**
 * The file connector (src/connectors/file): FileSink writes rows as Hive-partitioned CSV or
 * JSON-lines files, published atomically (in-progress file, fsync, rename, directory fsync);
 * CsvFileSource / readCsvRows read a bounded CSV file (a side-input table); SequenceSource
 * drains bounded sources in order.
 */
export { csvField, csvLine, parseCsv } from './csv.js';
export {
  escapePartitionValue,
  type FileFormat,
  FileSink,
  type FileSinkOptions,
  HIVE_DEFAULT_PARTITION,
} from './sink.js';
export { type CsvColumn, CsvFileSource, readCsvRows, SequenceSource } from './source.js';
