/**
 * The registry of subcommands. Each entry adds one command (with its own flags and help)
 * to the root program; later modules append theirs here.
 */
import type { Command } from 'commander';
import { registerBenchCommands } from './bench.js';
import { registerCdcCommands } from './cdc.js';
import { registerRegistryCommands } from './registry.js';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: readonly RegisterCommand[] = [
  registerRegistryCommands,
  registerCdcCommands,
  registerBenchCommands,
];
