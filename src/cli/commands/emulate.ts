/** `switchboard emulate telegram|vk|messenger [--port N]`: a local platform API emulator. */
import type { Command } from 'commander';

const PLATFORMS = ['telegram', 'vk', 'messenger'] as const;
type EmulatedPlatform = (typeof PLATFORMS)[number];

interface Started {
  url: string;
  close(): Promise<void>;
}

async function startEmulator(platform: EmulatedPlatform, port: number, host: string): Promise<Started> {
  switch (platform) {
    case 'telegram':
      return (await import('../../../emulators/telegram/index.ts')).startTelegramEmulator({ port, host });
    case 'vk':
      return (await import('../../../emulators/vk/index.ts')).startVkEmulator({ port, host });
    case 'messenger':
      return (await import('../../../emulators/messenger/index.ts')).startMessengerEmulator({ port, host });
  }
}

export function register(program: Command): void {
  program
    .command('emulate')
    .description('Run a local emulator of a platform API (for tests and demos; no real platform is contacted).')
    .argument('<platform>', `one of ${PLATFORMS.join(', ')}`)
    .option('--port <n>', 'port to listen on (0 picks a free one)', '0')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .addHelpText('after', '\nThe user-side API (act as a person, read what the bot sent) is under /_emulator/ — see docs/platforms/.')
    .action(async (platform: string, opts: { port: string; host: string }) => {
      if (!(PLATFORMS as readonly string[]).includes(platform)) {
        throw new Error(`unknown platform "${platform}": expected one of ${PLATFORMS.join(', ')}`);
      }
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected a port number 0-65535, got "${opts.port}"`);
      const emulator = await startEmulator(platform as EmulatedPlatform, port, opts.host);
      process.stdout.write(`${platform} emulator listening on ${emulator.url}\n`);
      const stop = () => void emulator.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
