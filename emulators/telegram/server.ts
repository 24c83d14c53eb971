/**
 * Builds the emulator's Fastify app: body parsers for every way the Bot API accepts parameters,
 * the bot API, the user-side API, one error handler that answers in the shape each side expects,
 * and the webhook pushers' lifecycle.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { addBodyParsers, registerBotApi, type EmulatorRuntime } from './bot-api.ts';
import { ApiFailure } from './limits.ts';
import { registerUserApi } from './user-api.ts';
import type { BotState, World } from './state.ts';
import { WebhookPusher, type WebhookRetryOptions } from './webhook.ts';

export interface ServerOptions {
  world: World;
  logger: FastifyServerOptions['logger'];
  webhookRetry: WebhookRetryOptions;
  maxPollSeconds: number;
}

export interface EmulatorServer {
  app: FastifyInstance;
  runtime: EmulatorRuntime;
  shutdown(): Promise<void>;
}

/** Uploads and user-side photos are base64 in JSON: allow a generous body. */
const BODY_LIMIT = 80 * 1024 * 1024;

export function buildServer(opts: ServerOptions): EmulatorServer {
  const app = Fastify({ logger: opts.logger, bodyLimit: BODY_LIMIT, forceCloseConnections: true });
  const pushers = new Map<BotState, WebhookPusher>();
  const runtime: EmulatorRuntime = {
    world: opts.world,
    maxPollSeconds: opts.maxPollSeconds,
    closing: false,
    startPusher: (bot) => {
      pushers.set(bot, new WebhookPusher(bot, opts.webhookRetry));
    },
    stopPusher: async (bot) => {
      const pusher = pushers.get(bot);
      pushers.delete(bot);
      await pusher?.stop();
    },
  };

  addBodyParsers(app);
  // Anything else (media for /_emulator/static) arrives as raw bytes.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (req.url.startsWith('/bot') || req.url.startsWith('/file/')) {
      const failure = err instanceof ApiFailure ? err : new ApiFailure(status, status === 500 ? 'Internal Server Error' : `Bad Request: ${err.message}`);
      return reply.code(failure.code).send(failure.toJSON());
    }
    if (status === 500) req.log.error({ err }, 'emulator user API failed');
    return reply.code(status).send({ error: err.message });
  });

  registerBotApi(app, runtime);
  registerUserApi(app, opts.world);

  return {
    app,
    runtime,
    async shutdown() {
      runtime.closing = true;
      for (const bot of opts.world.bots.values()) bot.poller?.deliver();
      await Promise.all([...pushers.values()].map((p) => p.stop()));
      pushers.clear();
      await app.close();
    },
  };
}
