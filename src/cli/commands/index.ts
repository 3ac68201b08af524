/**
 * The registry of subcommands. Each entry adds one command (with its own flags and help)
 * to the root program; later modules append theirs here.
 */
import type { Command } from 'commander';
import { registerBenchCommands } from './bench.js';
import { registerBrokerCommand } from './broker.js';
import { registerCdcCommands } from './cdc.js';
import { registerConsumeCommand } from './consume.js';
import { registerGroupsCommands } from './groups.js';
import { registerProduceCommand } from './produce.js';
import { registerRegistryCommands } from './registry.js';
import { registerRunCommand } from './run.js';
import { registerTopicsCommands } from './topics.js';

export type RegisterCommand = (program: Command) => void;

export const COMMANDS: readonly RegisterCommand[] = [
  registerBrokerCommand,
  registerTopicsCommands,
  registerProduceCommand,
  registerConsumeCommand,
  registerGroupsCommands,
  registerRegistryCommands,
  registerCdcCommands,
  registerBenchCommands,
  registerRunCommand,
];
