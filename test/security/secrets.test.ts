/**
 * Secrets (bot tokens, webhook secrets) never reach a log line or an HTTP answer — not on the
 * happy path, not on a rejected webhook, not when the platform API is unreachable.
 */
import net from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelegramEmulator, type TelegramEmulator } from '../../emulators/telegram/index.ts';
import { createLogger } from '../../src/config/logger.ts';
import { startSwitchboard, type Switchboard } from '../../src/runtime/switchboard.ts';

const SECRET = 'webhook-secret-Zq81xLm';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, log: createLogger('trace', stream) };
}

describe('secrets stay out of logs and answers', () => {
  let emu: TelegramEmulator;
  let sb: Switchboard;
  const logs = capture();

  beforeAll(async () => {
    emu = await startTelegramEmulator();
    const port = await freePort();
    sb = await startSwitchboard({
      env: {
        DATABASE_URL: 'sqlite::memory:',
        PORT: String(port),
        HOST: '127.0.0.1',
        WEBCHAT_ENABLED: 'false',
        TELEGRAM_BOT_TOKEN: emu.token,
        TELEGRAM_MODE: 'webhook',
        TELEGRAM_WEBHOOK_SECRET: SECRET,
        TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${port}/webhooks/telegram`,
        TELEGRAM_API_ROOT: emu.url,
      },
      log: logs.log,
    });
  }, 60_000);
  afterAll(async () => {
    await sb?.close();
    await emu?.close();
  });

  it('keeps the token and the webhook secret out of every log line and answer', async () => {
    const person = emu.person(501);
    await person.start();
    await person.waitForMessages(1);
    // A forged webhook: rejected, and the answer does not reveal what was expected.
    const forged = await fetch(`${sb.url}/webhooks/telegram`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'wrong' },
      body: JSON.stringify({ update_id: 1, message: { message_id: 1, date: 0, chat: { id: 1, type: 'private' }, text: 'hi' } }),
    });
    expect(forged.status).toBe(401);
    const answer = await forged.text();
    expect(answer).not.toContain(SECRET);
    // A send that fails permanently (the person blocked the bot) is logged with its reason.
    await person.block();
    await person.sendText('x').catch(() => undefined);
    await fetch(`${sb.url}/metrics`);
    await new Promise((r) => setTimeout(r, 500));
    const all = logs.lines.join('');
    expect(all.length).toBeGreaterThan(0);
    expect(all).not.toContain(emu.token);
    expect(all).not.toContain(emu.token.split(':')[1]);
    expect(all).not.toContain(SECRET);
    const metrics = await (await fetch(`${sb.url}/metrics`)).text();
    expect(metrics).not.toContain(emu.token);
  });

  it('does not leak the token when the platform API is unreachable', async () => {
    const port = await freePort();
    const local = capture();
    const token = '123456:AAH-unreachable-token-secret';
    const other = await startSwitchboard({
      env: {
        DATABASE_URL: 'sqlite::memory:',
        PORT: '0',
        HOST: '127.0.0.1',
        WEBCHAT_ENABLED: 'false',
        TELEGRAM_BOT_TOKEN: token,
        TELEGRAM_MODE: 'polling',
        TELEGRAM_API_ROOT: `http://127.0.0.1:${port}`,
        POLL_LEASE_MS: '300',
      },
      log: local.log,
    });
    await new Promise((r) => setTimeout(r, 1500));
    await other.close();
    const all = local.lines.join('');
    expect(all).toMatch(/ECONNREFUSED|unreachable|fetch failed|network/i);
    expect(all).not.toContain('unreachable-token-secret');
  });
});
