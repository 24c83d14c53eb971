/**
 * Peer: the same echo bot on the Vercel Chat SDK (`chat` + `@chat-adapter/telegram`, in-memory
 * state from `@chat-adapter/state-memory`). The adapter's `apiUrl` points its Bot API calls at the
 * emulator; its webhook handler (a Fetch API `Request → Response` function) runs on a node:http
 * server. Prints `ready <url>` once it listens.
 *
 * `concurrency: 'concurrent'`: the SDK answers the webhook before the handler ran, so a chat's
 * next update can arrive while its previous one is still being handled, and the default strategy
 * ('drop') would discard it. 'concurrent' answers every message (without per-chat ordering).
 *
 * Env: BENCH_TOKEN, BENCH_API_ROOT, BENCH_SECRET, BENCH_BOT_USERNAME.
 */
import http from 'node:http';
import { Chat, type Logger, type StateAdapter } from 'chat';
import { createTelegramAdapter } from '@chat-adapter/telegram';
import { createMemoryState } from '@chat-adapter/state-memory';
import { env, serve } from './serve.ts';

/** Errors only, on stderr: the harness shows them when something goes wrong. */
const quiet: Logger = {
  debug: () => {},
  info: () => {},
  warn: (message, ...args) => process.stderr.write(`chat-sdk warn: ${message} ${args.map((a) => JSON.stringify(a)).join(' ')}\n`),
  error: (message, ...args) => process.stderr.write(`chat-sdk error: ${message} ${args.map((a) => JSON.stringify(a)).join(' ')}\n`),
  child: () => quiet,
};

const telegram = createTelegramAdapter({
  botToken: env('BENCH_TOKEN'),
  secretToken: env('BENCH_SECRET'),
  apiUrl: env('BENCH_API_ROOT'),
  userName: env('BENCH_BOT_USERNAME'),
  mode: 'webhook',
  logger: quiet,
});
// @chat-adapter/state-memory pins chat 4.41.0 (a nested copy) while chat is 4.41.1: the same
// interface at run time, two declarations for TypeScript.
const state = createMemoryState() as unknown as StateAdapter;
const bot = new Chat({ userName: env('BENCH_BOT_USERNAME'), adapters: { telegram }, state, concurrency: 'concurrent', logger: quiet });
bot.onDirectMessage(async (thread, message) => {
  await thread.post(message.text);
});
await bot.initialize();

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const request = new Request(`http://127.0.0.1${req.url ?? '/'}`, { method: req.method, headers, body: Buffer.concat(chunks) });
    bot.webhooks
      .telegram(request)
      .then(async (response) => {
        res.writeHead(response.status, { 'content-type': response.headers.get('content-type') ?? 'text/plain' });
        res.end(Buffer.from(await response.arrayBuffer()));
      })
      .catch((err: unknown) => {
        process.stderr.write(`chat-sdk webhook failed: ${String(err)}\n`);
        res.writeHead(500).end();
      });
  });
});
serve(server);
