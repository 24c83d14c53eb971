/**
 * The bot side of the emulator: `{url}/bot{token}/{method}` (GET or POST; query, JSON, form or
 * multipart; method names case-insensitive) answering `{ok, result}` or Telegram's error object
 * with the same HTTP status, and `{url}/file/bot{token}/{file_path}` for downloads. Every call is
 * recorded in the call log.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiFailure, errors } from './limits.ts';
import { updateMethods } from './methods-updates.ts';
import { sendMethods } from './methods-send.ts';
import { parseMultipart, summarise, type Params } from './params.ts';
import type { BotState, World } from './state.ts';

/** What methods need from the running emulator beyond the world's state. */
export interface EmulatorRuntime {
  world: World;
  /** Longest getUpdates timeout honoured, in seconds. */
  maxPollSeconds: number;
  /** True once close() began: long polls answer at once. */
  closing: boolean;
  startPusher(bot: BotState): void;
  stopPusher(bot: BotState): Promise<void>;
}

export interface MethodContext {
  runtime: EmulatorRuntime;
  world: World;
  bot: BotState;
  params: Params;
  /** Runs `fn` if the client disconnects before the answer is sent (long polls). */
  onClientGone(fn: () => void): void;
}

export type Method = (ctx: MethodContext) => unknown;
export type MethodTable = Record<string, Method>;

const METHODS: MethodTable = { ...updateMethods, ...sendMethods };

/** Telegram reads form and multipart bodies as well as JSON; the emulator does too. */
export function addBodyParsers(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, async (req: FastifyRequest, body: Buffer) =>
    parseMultipart(body, String(req.headers['content-type'])),
  );
}

function paramsOf(req: FastifyRequest): Params {
  const query = (req.query ?? {}) as Params;
  const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) && !Buffer.isBuffer(req.body) ? (req.body as Params) : {};
  return { ...query, ...body };
}

export function registerBotApi(app: FastifyInstance, runtime: EmulatorRuntime): void {
  const { world } = runtime;

  const handle = async (req: FastifyRequest<{ Params: { token: string; method: string } }>, reply: FastifyReply) => {
    const { token, method } = req.params;
    const bot = world.bots.get(token);
    const params = paramsOf(req);
    const fn = METHODS[method.toLowerCase()];
    try {
      if (!bot) throw errors.unauthorized();
      if (!fn) throw errors.notFound();
      const result = await fn({
        runtime,
        world,
        bot,
        params,
        onClientGone: (cb) => reply.raw.once('close', () => !reply.raw.writableFinished && cb()),
      });
      world.record({ bot: bot.user.username, method, params: summarise(params), ok: true, status: 200 });
      return reply.code(200).send({ ok: true, result });
    } catch (err: unknown) {
      const failure = err instanceof ApiFailure ? err : new ApiFailure(500, 'Internal Server Error');
      if (!(err instanceof ApiFailure)) req.log.error({ err, method }, 'emulator method failed');
      world.record({
        bot: bot?.user.username ?? '?',
        method,
        params: summarise(params),
        ok: false,
        status: failure.code,
        error_code: failure.code,
        description: failure.message,
        ...(failure.retryAfter !== undefined ? { retry_after: failure.retryAfter } : {}),
      });
      return reply.code(failure.code).send(failure.toJSON());
    }
  };

  app.route({ method: ['GET', 'POST'], url: '/bot:token/:method', handler: handle });

  app.get<{ Params: { token: string; '*': string } }>('/file/bot:token/*', async (req, reply) => {
    const bot = world.bots.get(req.params.token);
    if (!bot) return reply.code(401).send(errors.unauthorized().toJSON());
    const file = bot.filesByPath.get(req.params['*']);
    if (!file) return reply.code(404).send(errors.notFound().toJSON());
    return reply.type(file.mime ?? 'application/octet-stream').send(file.bytes);
  });
}
