/**
 * A local VK API for tests and demos: the community-bot methods, Bots Long Poll, upload servers,
 * the Callback API pusher, VK's limits and error shapes, and a user-side API to act as people.
 *
 * ```ts
 * const vk = await startVkEmulator();
 * const connector = createVkConnector({ ...vk.connectorOptions, mode: 'longpoll' });
 * const alice = vk.client.person(1001);
 * await alice.start();
 * console.log(await alice.messages());
 * ```
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { botApiRoutes } from './bot-api.ts';
import { CallbackPusher, type CallbackTarget } from './callback.ts';
import { VkEmulatorClient } from './client.ts';
import { userApiRoutes } from './user-api.ts';
import { VkState } from './state.ts';

export { VkEmulatorClient, VkPerson, VkEmulatorError } from './client.ts';
export type { ActionResult, SeenMessage, SeenButton } from './people.ts';
export type { CallRecord, MessageEventRecord, VkUpdate, VkState } from './state.ts';
export type { CallbackDelivery, CallbackTarget } from './callback.ts';
export { KEYBOARD_LIMITS, TEXT_LIMIT, PAYLOAD_LIMIT } from './limits.ts';

export interface VkEmulatorOptions {
  port?: number;
  host?: string;
  /** Community id (default 1). */
  groupId?: number;
  /** The community token the bot must use (default `vk-emulator-token`). */
  accessToken?: string;
  /** Requests per second per token before error 6 (default 20, as VK). */
  rps?: number;
  /** Events kept for Bots Long Poll (default 1000). */
  longPollHistory?: number;
  /** A Callback API server to confirm and push to from the start. */
  callback?: CallbackTarget;
  /** Callback API attempts per event (default 5) and the delay step between them (default 200 ms). */
  callbackAttempts?: number;
  callbackRetryDelayMs?: number;
  /** `true` logs requests with pino at info; a Logger logs through it. Silent by default. */
  log?: boolean | Logger;
}

export interface VkEmulator {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** What VK_API_ROOT must be set to: `${url}/method`. */
  apiRoot: string;
  groupId: number;
  accessToken: string;
  /** Ready-made connector options pointing at this emulator (add `mode`, and secret/confirmation for callback). */
  connectorOptions: { groupId: number; accessToken: string; apiRoot: string; maxRps: number };
  /** The user-side API. */
  client: VkEmulatorClient;
  /** Direct access to the emulator's memory, for assertions the HTTP API does not cover. */
  state: VkState;
  close(): Promise<void>;
}

/** Starts a VK emulator; listens on `port` (0 = any free port) and resolves once it accepts requests. */
export async function startVkEmulator(opts: VkEmulatorOptions = {}): Promise<VkEmulator> {
  const groupId = opts.groupId ?? 1;
  const accessToken = opts.accessToken ?? 'vk-emulator-token';
  let url = '';
  const state = new VkState({ groupId, token: accessToken, baseUrl: () => url, historyLimit: opts.longPollHistory });
  const pusher = new CallbackPusher(state, { attempts: opts.callbackAttempts, retryDelayMs: opts.callbackRetryDelayMs });
  const common = { bodyLimit: 60 * 1024 * 1024, forceCloseConnections: true };
  const app: FastifyInstance =
    typeof opts.log === 'object'
      ? (Fastify({ ...common, loggerInstance: opts.log }) as unknown as FastifyInstance)
      : Fastify({ ...common, logger: opts.log === true ? { level: 'info' } : false });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, new URLSearchParams(body as string)),
  );
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  botApiRoutes(app, state, { rps: opts.rps ?? 20, baseUrl: () => url });
  userApiRoutes(app, state, pusher);

  const listenHost = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? 0, host: listenHost });
  const { port } = app.server.address() as { port: number };
  // A wildcard address is not one a client can call: name the loopback instead.
  const host = listenHost === '0.0.0.0' || listenHost === '::' ? '127.0.0.1' : listenHost;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (opts.callback) await pusher.configure(opts.callback);

  return {
    url,
    apiRoot: `${url}/method`,
    groupId,
    accessToken,
    connectorOptions: { groupId, accessToken, apiRoot: `${url}/method`, maxRps: opts.rps ?? 20 },
    client: new VkEmulatorClient(url),
    state,
    async close() {
      state.closing = true;
      pusher.close();
      state.wakeAll();
      await app.close();
    },
  };
}
