/**
 * The Bot API client's transport: what a caller gets when Telegram (or the network in between)
 * misbehaves, and that the token in every URL never reaches an error.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { InputFile, TelegramApi, TelegramApiError, TelegramNetworkError } from '../../../src/connectors/telegram/api.ts';

const TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const servers: http.Server[] = [];

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err: unknown) {
    return err as Error;
  }
  throw new Error('expected a failure');
}

describe('Telegram API client', () => {
  it('posts JSON to /bot<token>/<method> and resolves with the result', async () => {
    const seen: Array<{ url?: string; type?: string; body: string }> = [];
    const root = await serve((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ url: req.url, type: req.headers['content-type'], body });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ok: true, result: { message_id: 7, date: 1, chat: { id: 5, type: 'private' } } }));
      });
    });
    const api = new TelegramApi({ token: TOKEN, apiRoot: root });
    const sent = await api.call('sendMessage', { chat_id: 5, text: 'hi', reply_markup: undefined });
    expect(sent.message_id).toBe(7);
    expect(seen).toEqual([{ url: `/bot${TOKEN}/sendMessage`, type: 'application/json', body: '{"chat_id":5,"text":"hi"}' }]);
  });

  it('uploads an InputFile as multipart with its name and type', async () => {
    let body = '';
    let type = '';
    const root = await serve((req, res) => {
      type = req.headers['content-type'] ?? '';
      req.on('data', (d: Buffer) => (body += d.toString('latin1')));
      req.on('end', () => res.end(JSON.stringify({ ok: true, result: { message_id: 1, date: 1, chat: { id: 5, type: 'private' } } })));
    });
    const api = new TelegramApi({ token: TOKEN, apiRoot: root });
    await api.call('sendDocument', { chat_id: 5, document: new InputFile(Buffer.from('PDFDATA'), 'a.pdf', 'application/pdf') });
    expect(type).toMatch(/^multipart\/form-data; boundary=/);
    expect(body).toContain('filename="a.pdf"');
    expect(body).toContain('Content-Type: application/pdf');
    expect(body).toContain('PDFDATA');
    expect(body).toMatch(/name="chat_id"\r\n\r\n5\r\n/);
  });

  it('turns ok:false into TelegramApiError with code, description and retry_after', async () => {
    const root = await serve((_req, res) => {
      res.statusCode = 429;
      res.end(JSON.stringify({ ok: false, error_code: 429, description: 'Too Many Requests: retry after 3', parameters: { retry_after: 3 } }));
    });
    const err = await failure(new TelegramApi({ token: TOKEN, apiRoot: root }).call('sendMessage', { chat_id: 1, text: 'x' }));
    expect(err).toBeInstanceOf(TelegramApiError);
    expect(err).toMatchObject({ method: 'sendMessage', errorCode: 429, retryAfter: 3 });
  });

  it('reports a proxy page, a refused connection and a silent server as network errors without the token', async () => {
    const html = await serve((_req, res) => {
      res.statusCode = 502;
      res.setHeader('content-type', 'text/html');
      res.end('<html>Bad Gateway</html>');
    });
    const silent = await serve(() => undefined);
    const closed = await serve(() => undefined);
    await new Promise((r) => servers.pop()!.close(r));

    const errors = [
      await failure(new TelegramApi({ token: TOKEN, apiRoot: html }).call('getMe', {})),
      await failure(new TelegramApi({ token: TOKEN, apiRoot: closed }).call('getMe', {})),
      await failure(new TelegramApi({ token: TOKEN, apiRoot: silent, timeoutMs: 300 }).call('getMe', {})),
    ];
    expect(errors.map((e) => e instanceof TelegramNetworkError && e.code)).toEqual(['HTTP_502', 'ECONNREFUSED', 'ETIMEDOUT']);
    for (const e of errors) {
      expect(`${e.message} ${String(e.cause)} ${JSON.stringify(e)}`).not.toContain(TOKEN.split(':')[1]);
    }
  });

  it('stops at once when the caller aborts, with the caller’s reason', async () => {
    const root = await serve(() => undefined);
    const ac = new AbortController();
    const pending = failure(new TelegramApi({ token: TOKEN, apiRoot: root }).call('getUpdates', { timeout: 30 }, { signal: ac.signal, timeoutMs: 60_000 }));
    setTimeout(() => ac.abort(new Error('shutting down')), 50);
    expect((await pending).message).toBe('shutting down');
  });
});
