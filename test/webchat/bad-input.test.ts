/**
 * Bad input at the web chat: every malformed, oversized, unknown or too-fast frame gets an
 * `error` frame the page can show, leaves a log line, stores nothing, and the socket (and the
 * server) keep working. Uploads are checked the same way.
 */
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/connectors/webchat/index.ts';
import { ChatClient, type Frame } from './ws-client.ts';
import { PNG_1PX, startHarness, type Harness } from './harness.ts';

let h: Harness;
const clients: ChatClient[] = [];
async function connected(opts?: Parameters<typeof startHarness>[0]): Promise<ChatClient> {
  h = await startHarness(opts);
  const c = new ChatClient();
  clients.push(c);
  await c.connect(h.url);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await h?.close();
});

/** Sends raw data and returns the error frame it earned. */
async function errorFor(c: ChatClient, data: string | Buffer, binary = false): Promise<Frame> {
  const from = c.frames.length;
  c.sendRaw(data, binary);
  return c.next((f) => f.type === 'error', 10_000, from);
}

/** The socket still answers, and a good frame is still stored. */
async function stillWorks(c: ChatClient): Promise<void> {
  const before = h.stored.length;
  await c.sendAcked({ type: 'text', text: 'still here' });
  expect(h.stored).toHaveLength(before + 1);
}

function warned(code: string): boolean {
  return h.logs.some((l) => l.level === 40 && l.code === code && l.msg === 'webchat: rejected a frame');
}

describe('web chat bad frames', () => {
  it.each([
    ['malformed JSON', '{"type": "text", "id": "abcdefgh", "text": ', 'bad-json'],
    ['a JSON value that is not a frame', '42', 'bad-frame'],
    ['an unknown frame type', JSON.stringify({ type: 'delete-everything', id: 'abcdefgh' }), 'unknown-type'],
    ['an unknown field', JSON.stringify({ type: 'text', id: 'abcdefgh', text: 'hi', admin: true }), 'bad-frame'],
    ['a wrong field type', JSON.stringify({ type: 'text', id: 'abcdefgh', text: 42 }), 'bad-frame'],
    ['a bad frame id', JSON.stringify({ type: 'text', id: 'x', text: 'hi' }), 'bad-frame'],
    ['an empty message', JSON.stringify({ type: 'text', id: 'abcdefgh', text: '   ' }), 'empty'],
    ['a second hello', JSON.stringify({ type: 'hello' }), 'already-hello'],
    ['an out-of-range location', JSON.stringify({ type: 'location', id: 'abcdefgh', latitude: 91, longitude: 0 }), 'bad-frame'],
  ])('answers %s with a clear error and stores nothing', async (_what, data, code) => {
    const c = await connected();
    const error = await errorFor(c, data);
    expect(error.code).toBe(code);
    expect(String(error.message).length).toBeGreaterThan(5);
    expect(h.stored).toEqual([]);
    expect(warned(code)).toBe(true);
    await stillWorks(c);
  });

  it('refuses a message over the documented length limit, and says the limit', async () => {
    const c = await connected({ maxTextLength: 100 });
    const error = await errorFor(c, JSON.stringify({ type: 'text', id: 'toolong01', text: 'a'.repeat(101) }));
    expect(error).toMatchObject({ id: 'toolong01', code: 'too-long' });
    expect(error.message).toContain('100');
    await c.sendAcked({ type: 'text', text: 'a'.repeat(100) });
    expect(h.stored.map((u) => (u.event as { text: string }).text.length)).toEqual([100]);
  });

  it('refuses an oversized frame without reading it, and a binary frame', async () => {
    const c = await connected({ maxFrameBytes: 2048 });
    expect((await errorFor(c, JSON.stringify({ type: 'text', id: 'bigframe1', text: 'é'.repeat(3000) }))).code).toBe('too-large');
    expect((await errorFor(c, Buffer.from([1, 2, 3]), true)).code).toBe('bad-frame');
    expect(h.stored).toEqual([]);
    await stillWorks(c);
  });

  it('wants a hello before anything else', async () => {
    h = await startHarness();
    const c = new ChatClient();
    clients.push(c);
    await c.open(h.url);
    const error = await errorFor(c, JSON.stringify({ type: 'text', id: 'early0001', text: 'hi' }));
    expect(error.code).toBe('hello-required');
    expect(h.stored).toEqual([]);
  });

  it('refuses a button the bot never showed this visitor', async () => {
    const c = await connected();
    const error = await errorFor(c, JSON.stringify({ type: 'action', id: 'forged001', payload: 'admin:grant' }));
    expect(error).toMatchObject({ id: 'forged001', code: 'unknown-action' });
    expect(h.stored).toEqual([]);
    expect(warned('unknown-action')).toBe(true);
    // A button from the visitor's history (shown before a restart) is known.
    h.history.set(c.visitor!, [{ id: 9, direction: 'out', at: 1, message: { text: 'Old', buttons: [[{ type: 'action', label: 'Old', payload: 'old' }]] } }]);
    await c.sendAcked({ type: 'action', payload: 'old' });
    expect(h.stored.map((u) => u.event)).toEqual([{ kind: 'action', payload: 'old' }]);
  });

  it('refuses an image that was not uploaded here', async () => {
    const c = await connected();
    const error = await errorFor(c, JSON.stringify({ type: 'image', id: 'foreign01', url: 'http://169.254.169.254/latest/meta-data' }));
    expect(error.code).toBe('unknown-upload');
    expect(h.stored).toEqual([]);
  });

  it('closes a socket that keeps sending bad frames, and the server keeps serving others', async () => {
    const c = await connected({ maxBadFrames: 5 });
    const closed = c.closed();
    for (let i = 0; i < 8; i++) c.sendRaw('not json');
    expect((await closed).code).toBe(1008);
    expect(c.frames.some((f) => f.type === 'error' && f.code === 'too-many-errors')).toBe(true);
    expect(h.logs.some((l) => l.msg === 'webchat: closing an abusive socket')).toBe(true);
    const other = new ChatClient();
    clients.push(other);
    await other.connect(h.url);
    await stillWorks(other);
  });

  it('keeps the order of a fast sender and asks them to wait when they exceed the rate', async () => {
    const c = await connected({ rateLimit: { perSecond: 2, burst: 4 } });
    const ids = Array.from({ length: 6 }, (_, i) => c.send({ type: 'text', text: `m${i}` }));
    const answers = await c.count((f) => (f.type === 'ack' || f.type === 'error') && ids.includes(f.id as string), 6);
    const byId = new Map(answers.map((f) => [f.id, f]));
    expect(ids.map((id) => byId.get(id)!.type)).toEqual(['ack', 'ack', 'ack', 'ack', 'error', 'error']);
    const limited = byId.get(ids[4])!;
    expect(limited.code).toBe('rate-limited');
    expect(limited.retryAfterMs).toBeGreaterThan(0);
    expect(h.stored.map((u) => (u.event as { text: string }).text)).toEqual(['m0', 'm1', 'm2', 'm3']);
    // After the wait, the refused messages go through in order.
    await new Promise((r) => setTimeout(r, Number(limited.retryAfterMs) + 1200));
    await c.sendAcked({ type: 'text', text: 'm4', id: ids[4] });
    await c.sendAcked({ type: 'text', text: 'm5', id: ids[5] });
    expect(h.stored.map((u) => (u.event as { text: string }).text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
  });

  it('says so when the message cannot be stored, and stores it on retry', async () => {
    const c = await connected();
    h.failInbox(1);
    const error = await errorFor(c, JSON.stringify({ type: 'text', id: 'retryme01', text: 'hello' }));
    expect(error).toMatchObject({ id: 'retryme01', code: 'unavailable' });
    expect(h.logs.some((l) => l.level === 50 && l.msg === 'webchat: could not store a frame')).toBe(true);
    await c.sendAcked({ type: 'text', id: 'retryme01', text: 'hello' });
    expect(h.stored).toHaveLength(1);
  });

  it('documents every error code', async () => {
    const doc = await readFile(new URL('../../docs/webchat.md', import.meta.url), 'utf8');
    for (const code of ERROR_CODES) expect(doc, code).toContain(`\`${code}\``);
  });
});

describe('web chat uploads', () => {
  const upload = (token: string | undefined, body: Buffer, type = 'image/png') =>
    fetch(h.url + '/webchat/upload', {
      method: 'POST',
      headers: { 'content-type': type, ...(token ? { 'x-webchat-token': token } : {}) },
      body: new Uint8Array(body),
    });

  it('stores an uploaded image and sends it to the bot as an attachment', async () => {
    const c = await connected();
    const res = await upload(c.token, PNG_1PX);
    expect(res.status).toBe(201);
    const { url } = (await res.json()) as { url: string };
    expect(url).toMatch(/^\/webchat\/files\/[a-f0-9]{32}\.png$/);
    const file = await fetch(h.url + url);
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    await c.sendAcked({ type: 'image', url, text: 'my badge' });
    expect(h.stored[0].event).toMatchObject({ kind: 'message', text: 'my badge', images: [{ url, mime: 'image/png', size: PNG_1PX.length, width: 1, height: 1 }] });
    const bytes = await h.connector.download!((h.stored[0].event as { images: Array<{ ref: string }> }).images[0] as never);
    expect(bytes.equals(PNG_1PX)).toBe(true);
  });

  it.each([
    ['without a token', undefined, PNG_1PX, 'image/png', 401],
    ['of a type that is not an image', 'TOKEN', Buffer.from('<svg onload="alert(1)"/>'), 'image/svg+xml', 415],
    ['whose bytes are not the declared type', 'TOKEN', Buffer.from('<html><script>alert(1)</script>'), 'image/png', 415],
    ['over 5 MiB', 'TOKEN', Buffer.concat([PNG_1PX, Buffer.alloc(5 * 1024 * 1024)]), 'image/png', 413],
  ])('refuses an upload %s', async (_what, token, body, type, status) => {
    const c = await connected();
    const res = await upload(token === 'TOKEN' ? c.token : token, body, type);
    expect(res.status).toBe(status);
    const json = (await res.json()) as { error: string; message: string };
    expect(json.message.length).toBeGreaterThan(5);
    await stillWorks(c);
  });
});
