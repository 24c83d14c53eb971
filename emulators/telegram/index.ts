/**
 * A local Telegram Bot API for tests, demos and benchmarks: the bot-side methods at
 * `{url}/bot{token}/{method}` behave as Telegram's do (limits, errors, long polling, webhooks
 * with the secret header), and a user-side API under `{url}/_emulator/...` acts as people.
 *
 * ```ts
 * const emu = await startTelegramEmulator();
 * // point the connector at it: TELEGRAM_API_ROOT=emu.url, TELEGRAM_BOT_TOKEN=emu.token
 * const alice = emu.person(1001);
 * await alice.start();
 * const [welcome] = await alice.waitForMessages(1);
 * await alice.press(welcome.inline_keyboard![0][0].text);
 * await emu.close();
 * ```
 */
import type { FastifyServerOptions } from 'fastify';
import { EmulatedPerson, TelegramEmulatorClient } from './client.ts';
import type { EmulatorLimits } from './limits.ts';
import { buildServer } from './server.ts';
import { DEFAULT_TOKEN, World, type EmulatorBotOptions } from './state.ts';
import { DEFAULT_WEBHOOK_RETRY, type WebhookRetryOptions } from './webhook.ts';

export { EmulatedPerson, TelegramEmulatorClient, EmulatorRequestError, waitFor } from './client.ts';
export type { CallbackView, MessageView, PressResult, WaitOptions } from './client.ts';
export type { EmulatorLimits } from './limits.ts';
export type { CallRecord, EmulatorBotOptions, EmulatorUser } from './state.ts';
export type { WebhookRetryOptions } from './webhook.ts';
export { parseTelegramHtml } from './html.ts';

export interface TelegramEmulatorOptions {
  /** Port to listen on (default 0: any free port). */
  port?: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Fastify/pino logger options; the emulator logs nothing by default. */
  log?: FastifyServerOptions['logger'];
  /** Bots the emulator knows (default: one bot with DEFAULT_TOKEN). Other tokens get 401. */
  bots?: EmulatorBotOptions[];
  /** Rate limits (default 30/s overall, 1/s per chat with a burst of 5). */
  limits?: Partial<EmulatorLimits>;
  /** How webhook pushes are retried after a non-2xx answer (defaults are short, for tests). */
  webhookRetry?: Partial<WebhookRetryOptions>;
  /** Longest getUpdates timeout honoured, in seconds (default 50). */
  maxPollSeconds?: number;
}

export interface TelegramEmulator {
  /** Base URL: use it as TELEGRAM_API_ROOT. */
  readonly url: string;
  /** Token of the first bot. */
  readonly token: string;
  /** The first bot as getMe describes it. */
  readonly bot: { id: number; username: string };
  /** The user-side API client (the same one works against an emulator run by the CLI). */
  readonly client: TelegramEmulatorClient;
  /** In-process access to the emulated state, for assertions the HTTP API does not cover. */
  readonly world: World;
  /** A person talking to the first bot. */
  person(id: number): EmulatedPerson;
  close(): Promise<void>;
}

export { DEFAULT_TOKEN };

export async function startTelegramEmulator(opts: TelegramEmulatorOptions = {}): Promise<TelegramEmulator> {
  const world = new World(opts.bots ?? [], opts.limits);
  const server = buildServer({
    world,
    logger: opts.log ?? false,
    webhookRetry: { ...DEFAULT_WEBHOOK_RETRY, ...opts.webhookRetry },
    maxPollSeconds: opts.maxPollSeconds ?? 50,
  });
  const host = opts.host ?? '127.0.0.1';
  await server.app.listen({ port: opts.port ?? 0, host });
  const address = server.app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port ?? 0;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}`;
  const first = world.bot()!;
  const client = new TelegramEmulatorClient(url);
  let closed: Promise<void> | null = null;
  return {
    url,
    token: first.token,
    bot: { id: first.user.id, username: first.user.username },
    client,
    world,
    person: (id) => client.person(id),
    close: () => (closed ??= server.shutdown()),
  };
}
