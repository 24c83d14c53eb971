/** `switchboard emulate telegram|vk|messenger [--port N]`: a local platform API emulator. */
import type { Command } from 'commander';

const PLATFORMS = ['telegram', 'vk', 'messenger'] as const;
type EmulatedPlatform = (typeof PLATFORMS)[number];

interface Started {
  url: string;
  /** The variables that point Switchboard at this emulator (its own made-up credentials). */
  env: Record<string, string>;
  close(): Promise<void>;
}

async function startEmulator(platform: EmulatedPlatform, port: number, host: string): Promise<Started> {
  switch (platform) {
    case 'telegram': {
      const emu = await (await import('../../../emulators/telegram/index.ts')).startTelegramEmulator({ port, host });
      return { url: emu.url, close: () => emu.close(), env: { TELEGRAM_API_ROOT: emu.url, TELEGRAM_BOT_TOKEN: emu.token, TELEGRAM_MODE: 'polling' } };
    }
    case 'vk': {
      const emu = await (await import('../../../emulators/vk/index.ts')).startVkEmulator({ port, host });
      return {
        url: emu.url,
        close: () => emu.close(),
        env: { VK_API_ROOT: emu.apiRoot, VK_GROUP_ID: String(emu.groupId), VK_ACCESS_TOKEN: emu.accessToken, VK_MODE: 'longpoll' },
      };
    }
    case 'messenger': {
      const emu = await (await import('../../../emulators/messenger/index.ts')).startMessengerEmulator({ port, host });
      return {
        url: emu.url,
        close: () => emu.close(),
        env: {
          MESSENGER_API_ROOT: emu.apiRoot,
          MESSENGER_PAGE_ACCESS_TOKEN: emu.accessToken,
          MESSENGER_APP_SECRET: emu.appSecret,
          MESSENGER_VERIFY_TOKEN: emu.verifyToken,
        },
      };
    }
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
      process.stdout.write(`point Switchboard at it with:\n${Object.entries(emulator.env).map(([k, v]) => `  ${k}=${v}`).join('\n')}\n`);
      const stop = () => void emulator.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
