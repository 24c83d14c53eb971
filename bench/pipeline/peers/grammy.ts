/**
 * Peer: the same echo bot on grammY, the reference for every ratio in the report. Webhook on a
 * node:http server (`webhookCallback(bot, 'http')`), Bot API calls to the emulator (`apiRoot`).
 * Prints `ready <url>` once it listens.
 *
 * Env: BENCH_TOKEN, BENCH_API_ROOT, BENCH_SECRET.
 */
import http from 'node:http';
import { Bot, webhookCallback } from 'grammy';
import { env, serve } from './serve.ts';

const bot = new Bot(env('BENCH_TOKEN'), { client: { apiRoot: env('BENCH_API_ROOT') } });
bot.on('message:text', (ctx) => ctx.reply(ctx.message.text));
bot.catch((err) => process.stderr.write(`grammY handler failed: ${String(err.error)}\n`));
// getMe once, before the load, as a deployed bot would have done at start.
await bot.init();

const server = http.createServer(webhookCallback(bot, 'http', { secretToken: env('BENCH_SECRET') }));
serve(server);
