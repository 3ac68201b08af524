/**
 * Fuzzes decodeRequest with 1 000 000 (or argv[2]) mutated and random request frames and
 * prints one JSON object. Exits non-zero on the first error that is not SluiceError
 * PROTOCOL/UNSUPPORTED, printing the frame.  node --import tsx bench/protocol-fuzz.ts [n] [seed]
 */
import { buildCorpus, FuzzFailure, runFuzz } from '../test/protocol/support/fuzz.js';

const iterations = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
const corpus = buildCorpus(8, seed);
const t0 = process.hrtime.bigint();
try {
  const stats = runFuzz(iterations, seed, corpus);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(
    JSON.stringify({
      name: 'protocol-fuzz',
      seed,
      corpus: corpus.length,
      events: iterations,
      seconds: Number(seconds.toFixed(2)),
      rate: Math.round(iterations / seconds),
      ...stats,
    }),
  );
} catch (err) {
  if (err instanceof FuzzFailure) {
    console.error(
      JSON.stringify({ name: 'protocol-fuzz', seed, failure: err.message, cause: String(err.cause) }),
    );
    process.exit(1);
  }
  throw err;
}
