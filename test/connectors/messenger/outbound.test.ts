import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { DeliveryError, type Delivery } from '../../../src/connectors/connector.ts';
import { createMessengerConnector, MESSENGER_CAPABILITIES, type MessengerConnector } from '../../../src/connectors/messenger/index.ts';
import { renderMessage } from '../../../src/core/render.ts';
import { bold, fmt, link } from '../../../src/core/format.ts';
import type { OutgoingMessage } from '../../../src/core/model.ts';
import { startMessengerEmulator, type MessengerEmulator } from '../../../emulators/messenger/index.ts';
import { connectorOptions } from './helpers.ts';

const HOUR = 3_600_000;
let fb: MessengerEmulator;
let connector: MessengerConnector;
let seq = 0;

beforeAll(async () => {
  fb = await startMessengerEmulator();
  connector = createMessengerConnector(connectorOptions({ apiRoot: fb.apiRoot, pageAccessToken: fb.accessToken }));
});
afterAll(async () => {
  await connector.close?.();
  await fb.close();
});

/** A person who just wrote to the page (so the 24-hour window is open). */
async function person() {
  const p = fb.person(`70000000000${++seq}`);
  await p.sendText('hi');
  return p;
}

function delivery(to: string, message: OutgoingMessage, extra: Partial<Delivery> = {}): Delivery {
  return {
    messageId: ++seq,
    conversation: { id: 1, bot: 'main', platform: 'messenger', chatId: to },
    recipient: to,
    message,
    plan: renderMessage(message, MESSENGER_CAPABILITIES),
    lastInboundAt: Date.now() - 60_000,
    attempt: 1,
    ...extra,
  };
}

async function sendFails(d: Delivery): Promise<DeliveryError> {
  const err = await connector.send(d).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DeliveryError);
  return err as DeliveryError;
}

beforeEach(async () => {
  await fb.configure({ maxRps: 300 });
});

describe('Messenger outbound: rendering', () => {
  it('sends plain text, with formatting dropped and link addresses kept', async () => {
    const p = await person();
    const res = await connector.send(delivery(p.psid, { text: fmt`Hello, ${bold('Ann')}! See ${link('the programme', 'https://ex.org/p')}.` }));
    const seen = await p.messages();
    expect(seen.map((m) => m.text)).toEqual(['Hello, Ann! See the programme (https://ex.org/p).']);
    expect(res.platformMessageIds).toEqual([seen[0].mid]);
  });

  it('splits text above 2000 characters into several messages', async () => {
    const p = await person();
    const text = Array.from({ length: 60 }, (_, i) => `Line ${i} ${'lorem ipsum dolor sit amet '.repeat(3)}`).join('\n');
    const res = await connector.send(delivery(p.psid, { text }));
    const seen = await p.messages();
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.every((m) => (m.text ?? '').length <= 2000)).toBe(true);
    const words = (t: string) => t.split(/\s+/).filter(Boolean);
    expect(words(seen.map((m) => m.text).join(' '))).toEqual(words(text));
    expect(res.platformMessageIds).toHaveLength(seen.length);
  });

  it('shows up to three buttons as a button template, links included', async () => {
    const p = await person();
    await connector.send(
      delivery(p.psid, {
        text: 'Pick one',
        buttons: [[{ type: 'action', label: 'Events', payload: 'events' }], [{ type: 'url', label: 'Site', url: 'https://ex.org' }]],
      }),
    );
    const [m] = await p.messages();
    expect(m.text).toBe('Pick one');
    expect(m.buttons).toEqual([
      { kind: 'postback', title: 'Events', payload: 'events' },
      { kind: 'web_url', title: 'Site', url: 'https://ex.org' },
    ]);
    expect(m.quickReplies).toBeUndefined();
  });

  it('sends the text before a template when it is longer than the template’s 640', async () => {
    const p = await person();
    const text = `${'A long introduction. '.repeat(40)}\n\nNow choose:`;
    await connector.send(delivery(p.psid, { text, buttons: [[{ type: 'action', label: 'Yes', payload: 'y' }]] }));
    const seen = await p.messages();
    expect(seen).toHaveLength(2);
    expect(seen[0].buttons).toBeUndefined();
    expect(seen[1].text).toBe('Now choose:');
    expect(seen[1].buttons?.map((b) => b.title)).toEqual(['Yes']);
  });

  it('shows more than three buttons as quick replies, and more than thirteen as a numbered list', async () => {
    const p = await person();
    const buttons = (n: number) => [Array.from({ length: n }, (_, i) => ({ type: 'action' as const, label: `Option ${i + 1}`, payload: `o${i + 1}` }))];
    await connector.send(delivery(p.psid, { text: 'Five', buttons: buttons(5) }));
    const plan = renderMessage({ text: 'Twenty', buttons: buttons(20) }, MESSENGER_CAPABILITIES);
    await connector.send({ ...delivery(p.psid, { text: 'Twenty', buttons: buttons(20) }), plan });
    const [five, twenty] = await p.messages();
    expect(five.quickReplies?.map((q) => q.payload)).toEqual(['o1', 'o2', 'o3', 'o4', 'o5']);
    expect(twenty.quickReplies).toBeUndefined();
    expect(twenty.text).toContain('20. Option 20');
    expect(plan.options).toHaveLength(20);
  });

  it('asks for the phone number with the phone quick reply, which the person sees as their own number', async () => {
    const p = await person();
    await p.profile({ phone: '+447700900123' });
    await connector.send(delivery(p.psid, { text: 'Share your phone?', buttons: [[{ type: 'contact', label: 'Share phone' }]] }));
    const [m] = await p.messages();
    expect(m.quickReplies).toEqual([{ kind: 'user_phone_number', title: '+447700900123' }]);
  });

  it('turns a location request into text, since Messenger cannot ask for one', async () => {
    const p = await person();
    await connector.send(delivery(p.psid, { text: 'Where are you?', buttons: [[{ type: 'location', label: 'Send location' }]] }));
    const [m] = await p.messages();
    expect(m.text).toBe('Where are you?\n\nSend location');
    expect(m.quickReplies).toBeUndefined();
  });

  it('sends images and files by URL, and uploads local files and bytes as filedata', async () => {
    const p = await person();
    const dir = mkdtempSync(join(tmpdir(), 'msgr-'));
    const pdf = join(dir, 'programme.pdf');
    writeFileSync(pdf, '%PDF-1.4 test');
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    await connector.send(
      delivery(p.psid, {
        images: [{ url: 'https://ex.org/a.png' }, { base64: png.toString('base64'), name: 'qr.png', caption: 'Your code' }],
        files: [{ path: pdf }],
        text: 'Done',
      }),
    );
    const seen = await p.messages();
    expect(seen.map((m) => m.attachment?.type ?? m.text)).toEqual(['image', 'image', 'Your code', 'file', 'Done']);
    expect(seen[0].attachment?.url).toBe('https://ex.org/a.png');
    expect(seen[1].attachment).toMatchObject({ name: 'qr.png', mime: 'image/png', size: png.length });
    expect(seen[3].attachment).toMatchObject({ name: 'programme.pdf', mime: 'application/pdf' });
    // The uploaded bytes are what the person can download.
    const bytes = Buffer.from(await (await fetch(seen[1].attachment!.url)).arrayBuffer());
    expect(bytes.equals(png)).toBe(true);
  });

  it('fails a local file that does not exist permanently, without retrying', async () => {
    const p = await person();
    const err = await sendFails(delivery(p.psid, { files: [{ path: '/nonexistent/file.pdf' }] }));
    expect(err).toMatchObject({ kind: 'permanent', code: 'media' });
  });

  it('skips parts an earlier attempt delivered', async () => {
    const p = await person();
    const d = delivery(p.psid, { images: [{ url: 'https://ex.org/1.png' }], text: 'after' });
    const res = await connector.send({ ...d, skip: 1 } as Delivery);
    const seen = await p.messages();
    expect(seen.map((m) => m.text)).toEqual(['after']);
    expect(res.platformMessageIds).toEqual([seen[0].mid]);
  });
});

describe('Messenger outbound: the 24-hour window', () => {
  it('sends within 24 hours as a RESPONSE', async () => {
    const p = await person();
    await connector.send(delivery(p.psid, { text: 'hi' }, { lastInboundAt: Date.now() - 23 * HOUR }));
    expect((await p.messages())[0]).toMatchObject({ messagingType: 'RESPONSE' });
  });

  it('fails an untagged message outside the window without calling the API', async () => {
    const p = await person();
    await p.lastMessageAgo(30 * HOUR);
    await fb.clearCalls();
    const err = await sendFails(delivery(p.psid, { text: 'late' }, { lastInboundAt: Date.now() - 30 * HOUR }));
    expect(err).toMatchObject({ kind: 'permanent', code: 'window', unreachable: false });
    expect(await fb.calls()).toEqual([]);
    expect(await p.messages()).toEqual([]);
  });

  it('sends a tagged message outside the window as MESSAGE_TAG', async () => {
    const p = await person();
    await p.lastMessageAgo(3 * 24 * HOUR);
    await connector.send(
      delivery(p.psid, { text: 'Your event moved to 18:00', tag: 'CONFIRMED_EVENT_UPDATE' }, { lastInboundAt: Date.now() - 3 * 24 * HOUR }),
    );
    expect((await p.messages())[0]).toMatchObject({ messagingType: 'MESSAGE_TAG', tag: 'CONFIRMED_EVENT_UPDATE' });
  });

  it('allows HUMAN_AGENT for seven days, not more', async () => {
    const p = await person();
    await p.lastMessageAgo(6 * 24 * HOUR);
    await connector.send(delivery(p.psid, { text: 'An operator replies', tag: 'HUMAN_AGENT' }, { lastInboundAt: Date.now() - 6 * 24 * HOUR }));
    expect(await p.messages()).toHaveLength(1);
    const err = await sendFails(delivery(p.psid, { text: 'too late', tag: 'HUMAN_AGENT' }, { lastInboundAt: Date.now() - 8 * 24 * HOUR }));
    expect(err.code).toBe('window');
  });

  it('maps Graph’s own window error (10/2018278) when the runtime does not know the last message time', async () => {
    const p = await person();
    await p.lastMessageAgo(2 * 24 * HOUR);
    const err = await sendFails(delivery(p.psid, { text: 'late' }, { lastInboundAt: undefined }));
    expect(err).toMatchObject({ kind: 'permanent', code: 'window' });
  });
});

describe('Messenger outbound: errors', () => {
  it('marks a person who blocked the page unreachable (551)', async () => {
    const p = await person();
    await p.block();
    const err = await sendFails(delivery(p.psid, { text: 'hello?' }));
    expect(err).toMatchObject({ kind: 'permanent', code: '551', unreachable: true, platform: 'messenger' });
  });

  it('reports the page’s rate limit (613) as rate-limited with a wait', async () => {
    const p = await person();
    await fb.configure({ maxRps: 1 });
    // Sent together, so they land within one second whatever the machine's load.
    const results = await Promise.allSettled([0, 1, 2, 3].map((i) => connector.send(delivery(p.psid, { text: `n${i}` }))));
    const err = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []))[0];
    if (!(err instanceof DeliveryError)) throw new Error('expected the emulator to answer 613');
    expect(err).toMatchObject({ kind: 'rate-limited', code: '613' });
    expect(err.retryAfterMs).toBeGreaterThan(0);
  });

  it('paces a burst under MESSENGER_MAX_RPS so the page never meets 613', async () => {
    // A page of its own, so earlier tests' sends do not count against its rate.
    const page = await startMessengerEmulator({ maxRps: 25 });
    const p = page.person('burst');
    await p.sendText('hi');
    const paced = createMessengerConnector(connectorOptions({ apiRoot: page.apiRoot, pageAccessToken: page.accessToken, maxRps: 10 }));
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => paced.send(delivery(p.psid, { text: `burst ${i}` }))));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await p.messages()).toHaveLength(30);
    await page.close();
  });

  it('treats code 4 as rate-limited too', async () => {
    const p = await person();
    await fb.failNext({ code: 4, message: '(#4) Application request limit reached' });
    expect(await sendFails(delivery(p.psid, { text: 'x' }))).toMatchObject({ kind: 'rate-limited', code: '4' });
  });

  it('reports a bad token (190) as permanent with a clear message that never contains the token', async () => {
    const p = await person();
    const bad = createMessengerConnector(connectorOptions({ apiRoot: fb.apiRoot, pageAccessToken: 'EAAbadTokenValue123' }));
    const err = (await bad.send(delivery(p.psid, { text: 'x' })).catch((e: unknown) => e)) as DeliveryError;
    expect(err).toMatchObject({ kind: 'permanent', code: '190', unreachable: false });
    expect(err.message).toMatch(/MESSENGER_PAGE_ACCESS_TOKEN/);
    expect(err.message).not.toContain('EAAbadTokenValue123');
    expect(JSON.stringify(err)).not.toContain('EAAbadTokenValue123');
  });

  it('treats 5xx and network failures as transient', async () => {
    const p = await person();
    await fb.failNext({ code: 2, message: 'An unexpected error has occurred. Please retry your request later.', status: 503 });
    expect(await sendFails(delivery(p.psid, { text: 'x' }))).toMatchObject({ kind: 'transient', code: '2' });
    const closedPort = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    const offline = createMessengerConnector(connectorOptions({ apiRoot: `http://127.0.0.1:${closedPort}/v24.0` }));
    const err = (await offline.send(delivery(p.psid, { text: 'x' })).catch((e: unknown) => e)) as DeliveryError;
    expect(err).toMatchObject({ kind: 'transient', code: 'ECONNREFUSED' });
  });

  it('treats a request Messenger rejects (100) as permanent', async () => {
    const p = await person();
    await fb.failNext({ code: 100, message: '(#100) Invalid parameter' });
    expect(await sendFails(delivery(p.psid, { text: 'x' }))).toMatchObject({ kind: 'permanent', code: '100', unreachable: false });
  });

  it('names the parts delivered before a failure so a retry does not resend them', async () => {
    const p = await person();
    const d = delivery(p.psid, { images: [{ url: 'https://ex.org/1.png' }], text: 'caption text' });
    // Parts: image (delivered), then text (fails) — the error carries the image's id.
    await fb.failNext({ code: 2, status: 500, after: 1 });
    const err = await sendFails(d);
    expect(err.kind).toBe('transient');
    const afterFailure = await p.messages();
    expect(err.deliveredIds).toEqual([afterFailure[0].mid]);
    const retry = await connector.send({ ...d, attempt: 2, skip: err.deliveredIds.length } as Delivery);
    const seen = await p.messages();
    expect(seen.map((m) => m.attachment?.type ?? m.text)).toEqual(['image', 'caption text']);
    expect(retry.platformMessageIds).toEqual([seen[1].mid]);
  });
});
