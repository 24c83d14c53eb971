/**
 * Live delivery of the bot's messages: a tab shows each message once (never again in a live
 * frame what its history already showed, nor a resend), and with several web replicas on one
 * bus, a tab held by any replica gets every message live, once, in order.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus } from '../../src/bus/bus.ts';
import { createMemoryBus } from '../../src/bus/memory.ts';
import { visitorId } from '../../src/connectors/webchat/index.ts';
import { startHarness, type Harness, type Outbox } from './harness.ts';
import { ChatClient, textOf, type Frame, type PartFrame } from './ws-client.ts';

const harnesses: Harness[] = [];
const clients: ChatClient[] = [];
const buses: Bus[] = [];

async function harness(opts: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await startHarness(opts);
  harnesses.push(h);
  return h;
}
function client(token?: string): ChatClient {
  const c = new ChatClient(token);
  clients.push(c);
  return c;
}
function bus(): Bus {
  const b = createMemoryBus({ log: pino({ level: 'silent' }) });
  buses.push(b);
  return b;
}

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const h of harnesses.splice(0)) await h.close();
  for (const b of buses.splice(0)) await b.close();
});

/** The `message` and `edit` frames a tab got, as `id: text` / `edit target: text`. */
function pushed(c: ChatClient): string[] {
  return c.frames.flatMap((f: Frame) => {
    const text = ((f.parts as PartFrame[] | undefined) ?? []).map((p) => textOf(p.html)).join('|');
    if (f.type === 'message') return [`${f.id as string}: ${text}`];
    if (f.type === 'edit') return [`edit ${f.target as string}: ${text}`];
    return [];
  });
}

const settle = () => new Promise((r) => setTimeout(r, 150));

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

for (const withBus of [false, true]) {
  describe(`a tab shows each message once (${withBus ? 'with' : 'without'} a bus)`, () => {
    it('does not repeat live what the history it is loading already shows', async () => {
      const h = await harness(withBus ? { bus: bus() } : {});
      const token = ChatClient.newToken();
      const chat = visitorId(token);
      h.history.set(chat, [
        { id: 1, direction: 'in', at: 1000, event: { kind: 'message', text: 'hi' } },
        { id: 2, direction: 'out', at: 1001, message: { text: 'Hello' } },
        { id: 3, direction: 'out', at: 1002, message: { text: 'Hello!' }, editOf: 2 },
      ]);
      const release = h.holdHistory();
      const c = client(token);
      const welcoming = c.connect(h.url);
      // The tab is registered and its history is being read (it holds 2 and the edit 3)...
      await until(() => h.historyAsked.includes(chat), 'the history load');
      // ...when the gateway sends 2 and 3 (the rows the history read) and then 4 (a newer one).
      await h.deliver(chat, 2, { text: 'Hello' });
      await h.deliver(chat, 3, { text: 'Hello!' }, 'web-2-0');
      await h.deliver(chat, 4, { text: 'How can I help?' });
      release();

      const welcome = await welcoming;
      expect((welcome.history as Array<{ dir: string; id: string }>).map((e) => e.id)).toEqual(['in-1', 'out-2']);
      await c.next((f) => f.type === 'message' && f.id === 'web-4-0');
      await settle();
      expect(pushed(c)).toEqual(['web-4-0: How can I help?']);
      expect(c.texts()).toEqual(['Hello!', 'How can I help?']);
    });

    it('does not show a message again when the gateway sends it again', async () => {
      const h = await harness(withBus ? { bus: bus() } : {});
      const c = client();
      await c.connect(h.url);
      await h.deliver(c.visitor!, 7, { text: 'once' });
      await h.deliver(c.visitor!, 7, { text: 'once' }); // a retry after the record failed
      await h.deliver(c.visitor!, 8, { text: 'twice?' });
      await c.next((f) => f.type === 'message' && f.id === 'web-8-0');
      await settle();
      expect(pushed(c)).toEqual(['web-7-0: once', 'web-8-0: twice?']);

      // Another tab opened later shows it from the history, not live.
      h.history.set(c.visitor!, [{ id: 7, direction: 'out', at: 1, message: { text: 'once' } }]);
      const later = client(c.token);
      await later.connect(h.url);
      await h.deliver(c.visitor!, 7, { text: 'once' });
      await settle();
      expect(pushed(later)).toEqual([]);
    });
  });
}

describe('several web replicas on one bus', () => {
  /** Two replicas sharing a bus and a database (the outbox); B loads slowly, like a real query. */
  async function replicas(): Promise<{ a: Harness; b: Harness; outbox: Outbox; loads: number[] }> {
    const shared = bus();
    const outbox: Outbox = new Map();
    const loads: number[] = [];
    const load = async (id: number) => {
      loads.push(id);
      await new Promise((r) => setTimeout(r, 30));
      return outbox.get(id);
    };
    const a = await harness({ bus: shared, outbox, outbound: load });
    const b = await harness({ bus: shared, outbox, outbound: load });
    return { a, b, outbox, loads };
  }

  it('pushes every message to a tab on another replica, once each and in order, edits included', async () => {
    const { a, b } = await replicas();
    const onB = client();
    await onB.connect(b.url);
    const onA = client(onB.token); // the same visitor in a second tab, on the other replica
    await onA.connect(a.url);
    const chat = onB.visitor!;
    // Consecutive messages sent by alternating replicas, as the send lease lets them: B loads
    // what A sent (slowly) while it has its own next message ready at once.
    await a.deliver(chat, 1, { text: 'one' });
    await b.deliver(chat, 2, { text: 'two' });
    await a.deliver(chat, 3, { text: 'three' });
    await b.deliver(chat, 4, { text: 'Three!' }, 'web-3-0');
    await a.deliver(chat, 5, { text: 'five' });

    const expected = ['web-1-0: one', 'web-2-0: two', 'web-3-0: three', 'edit web-3-0: Three!', 'web-5-0: five'];
    for (const c of [onA, onB]) {
      await c.next((f) => f.type === 'message' && f.id === 'web-5-0');
      await settle();
      expect(pushed(c)).toEqual(expected);
      expect(c.texts()).toEqual(['one', 'two', 'Three!', 'five']);
    }
  });

  it('leaves other visitors alone, and loads nothing on a replica holding no tab of the visitor', async () => {
    const { a, b, loads } = await replicas();
    const onB = client();
    await onB.connect(b.url);
    const stranger = client();
    await stranger.connect(a.url);
    await a.deliver(onB.visitor!, 10, { text: 'for B' });
    await onB.next((f) => f.type === 'message' && f.id === 'web-10-0');
    await b.deliver(onB.visitor!, 11, { text: 'again for B' });
    await onB.next((f) => f.type === 'message' && f.id === 'web-11-0');
    await settle();
    expect(pushed(stranger)).toEqual([]);
    // B loaded 10, which A sent. A, which holds the stranger's tab, loaded nothing for 11: it
    // knows whose conversation that is (it sent 10 to it), and holds no tab of that visitor.
    expect(loads).toEqual([10]);
  });

  it('the sender still pushes to its own tabs when the broadcast fails', async () => {
    const broken: Bus = bus();
    broken.broadcast = () => Promise.reject(new Error('broker unreachable'));
    const h = await harness({ bus: broken });
    const c = client();
    await c.connect(h.url);
    expect(await h.deliver(c.visitor!, 20, { text: 'still here' })).toEqual(['web-20-0']);
    await c.next((f) => f.type === 'message' && f.id === 'web-20-0');
    expect(h.logs.map((l) => l.msg)).toContain('webchat: broadcast failed; only this replica pushes the message live');
  });
});
