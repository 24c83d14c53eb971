/**
 * The web chat connector on a bare server: visitor identity, storing and acking frames, pushing
 * the bot's messages to every tab, history on return, edits, and the page and widget routes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bold, link } from '../../src/core/format.ts';
import { visitorId } from '../../src/connectors/webchat/index.ts';
import { ChatClient, textOf, type PartFrame } from './ws-client.ts';
import { startHarness, type Harness } from './harness.ts';

let h: Harness;
const clients: ChatClient[] = [];
function client(token?: string): ChatClient {
  const c = new ChatClient(token);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await h?.close();
});

describe('web chat visitor identity', () => {
  it('gives a new visitor a secret token and a public id derived from it', async () => {
    h = await startHarness();
    const c = client();
    const welcome = await c.connect(h.url);
    expect(welcome.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(welcome.visitor).toBe(visitorId(welcome.token as string));
    expect(welcome.visitor).not.toContain(welcome.token);
    expect(welcome.fresh).toBe(true);
    expect(welcome.history).toEqual([]);
    expect(welcome.limits).toMatchObject({ maxTextLength: 4096, maxUploadBytes: 5 * 1024 * 1024 });
    // A new visitor has nothing stored: the history is not even asked for.
    expect(h.historyAsked).toEqual([]);
  });

  it('shows a returning visitor the conversation, re-rendered, with edits in place', async () => {
    h = await startHarness();
    const token = ChatClient.newToken();
    const chat = visitorId(token);
    h.history.set(chat, [
      { id: 1, direction: 'in', at: 1000, event: { kind: 'start' } },
      { id: 2, direction: 'out', at: 1001, message: { text: [bold('Hello'), { text: ', visitor' }], buttons: [[{ type: 'action', label: 'Profile', payload: 'profile' }]] } },
      { id: 3, direction: 'in', at: 1002, event: { kind: 'action', payload: 'profile' } },
      { id: 4, direction: 'out', at: 1003, message: { text: 'What is your name?' } },
      { id: 5, direction: 'in', at: 1004, event: { kind: 'message', text: 'Ada' } },
      { id: 6, direction: 'out', at: 1005, message: { text: 'Your name is Ada.' }, editOf: 4 },
    ]);
    const welcome = await client(token).connect(h.url);
    expect(welcome.fresh).toBe(false);
    expect(h.historyAsked).toEqual([chat]);
    const history = welcome.history as Array<{ dir: string; view?: unknown; parts?: PartFrame[] }>;
    expect(history.map((e) => (e.dir === 'in' ? e.view : e.parts?.map((p) => textOf(p.html))))).toEqual([
      ['Hello, visitor'],
      { action: 'Profile' },
      ['Your name is Ada.'],
      { text: 'Ada' },
    ]);
    expect(history[0].parts?.[0]).toMatchObject({ id: 'web-2-0', html: '<b>Hello</b>, visitor', keyboard: 'inline' });
    // The edit kept the place and the id of the message it replaced.
    expect(history[2].parts?.[0].id).toBe('web-4-0');
  });

  it('never shows the history to someone who knows only the public id', async () => {
    h = await startHarness();
    const token = ChatClient.newToken();
    const chat = visitorId(token);
    h.history.set(chat, [{ id: 1, direction: 'out', at: 1, message: { text: 'secret' } }]);
    // Using the public id as a token names a different visitor, with an empty history.
    const welcome = await client(chat.padEnd(40, 'x')).connect(h.url);
    expect(welcome.visitor).not.toBe(chat);
    expect(JSON.stringify(welcome.history)).not.toContain('secret');
  });
});

describe('web chat inbound frames', () => {
  it('stores a text frame before acking it, with the visitor as chat and sender', async () => {
    h = await startHarness();
    const c = client();
    await c.connect(h.url, 'ru-RU');
    const ack = await c.sendAcked({ type: 'text', text: 'Привет' });
    expect(ack.duplicate).toBe(false);
    expect(h.stored).toHaveLength(1);
    expect(h.stored[0]).toMatchObject({
      platform: 'webchat',
      bot: 'main',
      chatId: c.visitor,
      sender: { platformUserId: c.visitor, language: 'ru-RU' },
      event: { kind: 'message', text: 'Привет' },
    });
    expect(h.stored[0].dedupKey).toBe(`${c.visitor}:${ack.id}`);
  });

  it('stores a frame resent after a reconnect only once', async () => {
    h = await startHarness();
    const c = client();
    await c.connect(h.url);
    await c.sendAcked({ type: 'text', text: 'once', id: 'resend-me-1' });
    await c.close();
    const again = client(c.token);
    await again.connect(h.url);
    const ack = await again.sendAcked({ type: 'text', text: 'once', id: 'resend-me-1' });
    expect(ack.duplicate).toBe(true);
    expect(h.stored.map((u) => u.event)).toEqual([{ kind: 'message', text: 'once' }]);
  });

  it('turns start, action, location and contact frames into events', async () => {
    h = await startHarness();
    const c = client();
    await c.connect(h.url);
    await h.deliver(c.visitor!, 7, { text: 'Menu', buttons: [[{ type: 'action', label: 'Go', payload: 'go:1' }]] });
    await c.next((f) => f.type === 'message');
    await c.sendAcked({ type: 'start', payload: 'qr-42' });
    await c.sendAcked({ type: 'action', payload: 'go:1', messageId: 'web-7-0' });
    await c.sendAcked({ type: 'location', latitude: 55.75, longitude: 37.62 });
    await c.sendAcked({ type: 'contact', phone: '+7 900 000-00-00' });
    expect(h.stored.map((u) => u.event)).toEqual([
      { kind: 'start', payload: 'qr-42' },
      { kind: 'action', payload: 'go:1', sourceMessageId: 'web-7-0' },
      { kind: 'message', location: { latitude: 55.75, longitude: 37.62 } },
      { kind: 'message', contact: { phone: '+7 900 000-00-00', own: false } },
    ]);
  });

  it('ends the chat on leave: stored as blocked, and every tab of the visitor is told and closed', async () => {
    h = await startHarness();
    const first = client();
    await first.connect(h.url);
    const second = client(first.token);
    await second.connect(h.url);
    const closed = second.closed();
    await first.sendAcked({ type: 'leave' });
    expect(h.stored.map((u) => u.event)).toEqual([{ kind: 'membership', status: 'blocked' }]);
    await second.next((f) => f.type === 'left');
    expect((await closed).code).toBe(1000);
    expect(h.connector.openSockets).toBe(0);
  });

  it('shows what a visitor sent in one tab in their other tabs', async () => {
    h = await startHarness();
    const first = client();
    await first.connect(h.url);
    const second = client(first.token);
    await second.connect(h.url);
    const id = (await first.sendAcked({ type: 'text', text: 'from tab one' })).id;
    const echo = await second.next((f) => f.type === 'echo');
    expect(echo).toMatchObject({ id, view: { text: 'from tab one' } });
    expect(first.frames.some((f) => f.type === 'echo')).toBe(false);
  });
});

describe('web chat outbound messages', () => {
  it('pushes a message to every open tab of the visitor and nobody else', async () => {
    h = await startHarness();
    const a1 = client();
    await a1.connect(h.url);
    const a2 = client(a1.token);
    await a2.connect(h.url);
    const other = client();
    await other.connect(h.url);
    const ids = await h.deliver(a1.visitor!, 12, {
      text: [{ text: 'Hi ' }, bold('there'), { text: ' <script>alert(1)</script> ' }, link('docs', 'https://example.org/?a=1&b=2'), link('bad', 'javascript:alert(1)')],
      buttons: [[{ type: 'action', label: 'Yes', payload: 'yes' }, { type: 'url', label: 'Site', url: 'https://example.org' }]],
    });
    expect(ids).toEqual(['web-12-0']);
    for (const c of [a1, a2]) {
      const frame = await c.next((f) => f.type === 'message');
      const part = (frame.parts as PartFrame[])[0];
      expect(part.html).toBe('Hi <b>there</b> &lt;script&gt;alert(1)&lt;/script&gt; <a href="https://example.org/?a=1&amp;b=2">docs</a>bad');
      expect(part.buttons).toEqual([[{ type: 'action', label: 'Yes', payload: 'yes' }, { type: 'url', label: 'Site', url: 'https://example.org/' }]]);
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(other.frames.filter((f) => f.type === 'message')).toEqual([]);
  });

  it('counts a message to a visitor with no open tab as delivered', async () => {
    h = await startHarness();
    expect(await h.deliver('v0123456789abcdef0123456789abcdef', 3, { text: 'later' })).toEqual(['web-3-0']);
  });

  it('splits long text into parts and serves images the bot sends as bytes', async () => {
    h = await startHarness();
    const c = client();
    await c.connect(h.url);
    const png = (await import('./harness.ts')).PNG_1PX;
    const ids = await h.deliver(c.visitor!, 20, {
      text: 'word '.repeat(2500),
      images: [{ base64: png.toString('base64'), mime: 'image/png', caption: 'Your code' }],
    });
    expect(ids).toEqual(['web-20-0', 'web-20-1', 'web-20-2']);
    const parts = (await c.next((f) => f.type === 'message')).parts as PartFrame[];
    expect(parts[0].image?.url).toMatch(/^\/webchat\/files\/[a-f0-9]{32}\.png$/);
    expect(parts[0].image?.captionHtml).toBe('Your code');
    const res = await fetch(h.url + parts[0].image!.url);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer()).equals(png)).toBe(true);
  });

  it('replaces an edited message in place', async () => {
    h = await startHarness();
    const c = client();
    await c.connect(h.url);
    const [first] = await h.deliver(c.visitor!, 30, { text: 'Counting: 1' });
    const ids = await h.deliver(c.visitor!, 31, { text: 'Counting: 2' }, first);
    expect(ids).toEqual([first]);
    await c.next((f) => f.type === 'edit');
    expect(c.texts()).toEqual(['Counting: 2']);
  });
});

describe('web chat page and widget', () => {
  it('serves the chat page at / with a strict content security policy', async () => {
    h = await startHarness();
    const res = await fetch(h.url + '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await res.text()).toContain('/webchat/webchat.js');
  });

  it('serves the widget script and the client files, and nothing else under /webchat/', async () => {
    h = await startHarness();
    const widget = await fetch(h.url + '/webchat/widget.js');
    expect(widget.headers.get('content-type')).toContain('text/javascript');
    expect(await widget.text()).toContain('attachShadow');
    for (const name of ['webchat.js', 'webchat.css', 'webchat-connection.js', 'webchat-render.js', 'webchat-i18n.js']) {
      expect((await fetch(`${h.url}/webchat/${name}`)).status).toBe(200);
    }
    expect((await fetch(h.url + '/webchat/..%2fconnector.ts')).status).toBe(404);
    expect((await fetch(h.url + '/webchat/files/..%2f..%2fetc%2fpasswd')).status).toBe(404);
  });

  it('works when the host server registered the WebSocket plugin itself', async () => {
    h = await startHarness({ preRegisterWebsocket: true });
    const c = client();
    await c.connect(h.url);
    await c.sendAcked({ type: 'text', text: 'hi' });
    expect(h.stored).toHaveLength(1);
  });
});
