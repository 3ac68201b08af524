/**
 * The `sluice` command: thin. It parses flags and calls the modules; every subcommand
 * lives in `commands/<name>.ts` and registers itself in COMMANDS below.
 *
 * Exit codes: 0 success, 1 a runtime failure (SluiceError or otherwise), 2 a usage error
 * (unknown command, unknown or missing flag, bad flag value), 130/143 on SIGINT/SIGTERM.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { isSluiceError, SLUICE_VERSION, SluiceError } from '../common/index.js';
import { COMMANDS } from './commands/index.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export function buildProgram(io: CliIo): Command {
  const program = new Command('sluice');
  program
    .description('Sluice: the real-time data stack in one TypeScript package')
    .usage('[options] [command]')
    .version(SLUICE_VERSION, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();
  for (const register of COMMANDS) register(program);
  // Commander runs the root action when no subcommand matches: an unknown operand is a usage error.
  program.argument('[command]').action((command: string | undefined) => {
    if (command === undefined) {
      program.outputHelp();
      return;
    }
    throw new CommanderError(EXIT_USAGE, 'sluice.unknownCommand', `error: unknown command '${command}'`);
  });
  // Subcommands added with addCommand() do not inherit these settings; apply them all the way down.
  const inherit = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      sub.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

/** Parses a flag as a positive integer, for commander's `argParser`. */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

/** Runs the CLI; resolves to the process exit code instead of exiting, so tests can call it. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      ) {
        return EXIT_OK;
      }
      if (err.code === 'sluice.unknownCommand') {
        io.stderr(`${err.message}\nRun 'sluice --help' to see the commands.\n`);
      }
      // Commander already printed its own message for its errors.
      return EXIT_USAGE;
    }
    if (isSluiceError(err)) {
      io.stderr(`error [${err.code}]: ${err.message}\n`);
      return err.code === 'USAGE' || err.code === 'INVALID_ARGUMENT' || err.code === 'INVALID_CONFIG'
        ? EXIT_USAGE
        : EXIT_FAILURE;
    }
    io.stderr(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT_FAILURE;
  }
}

export { SluiceError };
