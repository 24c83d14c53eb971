/**
 * The `switchboard` command. Each command group registers itself from ./commands.
 */
import { Command } from 'commander';
import { commands } from './commands/index.ts';

const program = new Command()
  .name('switchboard')
  .description('Multi-platform bot system: one bot on Telegram, VK, Messenger and the web chat.')
  .version('0.1.0')
  .showHelpAfterError();

for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err: unknown) {
  process.stderr.write(`switchboard: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = process.exitCode || 1;
}
