/**
 * A local Facebook Messenger Platform: the Graph Send API a bot calls, the webhook Meta pushes
 * (signed with the app secret, batched, retried on non-200), its limits and error shapes, and a
 * user-side API under `/_emulator/...` to act as people. Also `switchboard emulate messenger`.
 *
 * ```ts
 * const fb = await startMessengerEmulator();
 * const connector = createMessengerConnector({ apiRoot: fb.apiRoot, pageAccessToken: fb.accessToken, ... });
 * await fb.setWebhook(`${switchboardUrl}/webhooks/messenger`);
 * await fb.person('1001').getStarted();
 * ```
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { registerBotApi } from './bot-api.ts';
import { MessengerEmulatorClient } from './client.ts';
import { WebhookPusher } from './pusher.ts';
import { EmulatorState, type EmulatorConfig } from './state.ts';
import { registerUserApi } from './user-api.ts';

export { MessengerEmulatorClient, EmulatedPerson, EmulatorRequestError } from './client.ts';
export type { ActionResult, EmulatorInfo } from './client.ts';
export type { PageMessage, ShownButton, SentAttachment, ApiCallRecord, DeliveryRecord } from './state.ts';
export type { UserAction } from './user-api.ts';

export interface MessengerEmulatorOptions extends Partial<EmulatorConfig> {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  host?: string;
  /** Logs requests here; silent when absent. */
  log?: Logger;
}

export interface MessengerEmulator extends MessengerEmulatorClient {
  /** Graph base including the version: set it as MESSENGER_API_ROOT. */
  readonly apiRoot: string;
  readonly pageId: string;
  readonly appSecret: string;
  readonly verifyToken: string;
  readonly accessToken: string;
  close(): Promise<void>;
}

/** Starts the emulator and resolves once it listens. */
export async function startMessengerEmulator(opts: MessengerEmulatorOptions = {}): Promise<MessengerEmulator> {
  const { port = 0, host = '127.0.0.1', log, ...config } = opts;
  const state = new EmulatorState(config);
  const pusher = new WebhookPusher(state);
  const bodyLimit = 30 * 1024 * 1024;
  const app = (log ? Fastify({ loggerInstance: log, bodyLimit }) : Fastify({ logger: false, bodyLimit })) as unknown as FastifyInstance;
  registerBotApi(app, state, pusher);
  registerUserApi(app, state, pusher);
  await app.listen({ port, host });

  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  state.baseUrl = `http://${shownHost}:${boundPort}`;

  const client = new MessengerEmulatorClient(state.baseUrl) as MessengerEmulator;
  return Object.assign(client, {
    apiRoot: `${state.baseUrl}/${state.config.graphVersion}`,
    pageId: state.config.pageId,
    appSecret: state.config.appSecret,
    verifyToken: state.config.verifyToken,
    accessToken: state.config.accessToken,
    async close() {
      pusher.close();
      await app.close();
    },
  });
}
