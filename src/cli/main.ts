/** Process entry of the `sluice` binary: runs the CLI and exits with its code. */
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
});
// Long-running commands (broker, run) keep the loop alive and set their own exit; short ones end here.
process.exitCode = code;
