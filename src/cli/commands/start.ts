/** `switchboard start [--roles core,gateway,web] [--connectors telegram,vk]` */
import type { Command } from 'commander';
import { ConfigError, ROLES, type Role } from '../../config/config.ts';
import { loadDotEnv } from '../env.ts';

function parseRoles(value: string): Role[] {
  const roles = value.split(',').map((r) => r.trim()).filter(Boolean);
  const bad = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (bad.length || !roles.length) throw new Error(`--roles: expected a comma-separated list of ${ROLES.join(', ')}; got "${value}"`);
  return roles as Role[];
}

export function register(program: Command): void {
  program
    .command('start')
    .description('Start Switchboard. Without --roles every role runs in this process (embedded mode).')
    .option('--roles <list>', `roles to run, comma-separated: ${ROLES.join(', ')}`, parseRoles)
    .option('--connectors <list>', 'gateway only: platforms to run (e.g. telegram,vk); default every configured one', (v: string) => v.split(',').map((s) => s.trim()))
    .addHelpText('after', '\nConfiguration comes from the environment and an optional .env file; see docs/configuration.md.')
    .action(async (opts: { roles?: Role[]; connectors?: string[] }) => {
      loadDotEnv();
      let sb: Awaited<ReturnType<typeof import('../../runtime/switchboard.ts').startSwitchboard>>;
      try {
        // Loaded here so that `--help` stays quick.
        const { startSwitchboard } = await import('../../runtime/switchboard.ts');
        sb = await startSwitchboard({ roles: opts.roles, platforms: opts.connectors });
      } catch (err: unknown) {
        if (err instanceof ConfigError) {
          process.stderr.write(`switchboard: ${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      const where = sb.url ? sb.url.replace('127.0.0.1', 'localhost') : null;
      if (where && sb.config.WEBCHAT_ENABLED && (!opts.roles || opts.roles.includes('web'))) {
        process.stdout.write(`Switchboard is running: web chat at ${where}/\n`);
      } else {
        process.stdout.write(`Switchboard is running (roles: ${(opts.roles ?? ['core', 'gateway', 'web']).join(', ')})${where ? ` on ${where}` : ''}\n`);
      }
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        sb.log.info({ signal }, 'shutting down');
        const force = setTimeout(() => process.exit(1), 10_000);
        force.unref();
        void sb.close().then(() => process.exit(0));
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
