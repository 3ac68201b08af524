/** The CLI's public face: tests and embedders call runCli instead of spawning the binary. */
export {
  buildProgram,
  type CliIo,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  parsePositiveInt,
  runCli,
} from './program.js';
