/** `switchboard migrate`: applies pending database migrations and exits. */
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../config/config.ts';
import { loadDotEnv } from '../env.ts';

export function register(program: Command): void {
  program
    .command('migrate')
    .description('Apply pending database migrations (DATABASE_URL) and exit.')
    .action(async () => {
      loadDotEnv();
      let config;
      try {
        config = loadConfig(process.env);
      } catch (err: unknown) {
        if (err instanceof ConfigError) {
          process.stderr.write(`switchboard: ${err.message}\n`);
          process.exitCode = 2;
          return;
        }
        throw err;
      }
      const { openStore } = await import('../../storage/database.ts');
      const { migrate } = await import('../../storage/migrate.ts');
      const store = openStore(config.DATABASE_URL);
      try {
        const report = await migrate(store);
        process.stdout.write(
          report.applied.length ? `applied: ${report.applied.join(', ')}\n` : `database is up to date (${report.current})\n`,
        );
      } finally {
        await store.close();
      }
    });
}
