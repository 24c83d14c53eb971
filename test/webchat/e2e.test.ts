/**
 * End to end through the whole system: the web chat WebSocket, the store, core running the demo
 * bot, the gateway and back to the socket. A person opens the chat, presses a button, answers
 * the demo dialog, comes back to see the history, sends garbage and sends faster than the bot
 * answers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoBot } from '../../src/bot/demo.ts';
import { startSwitchboard, type Switchboard } from '../../src/runtime/switchboard.ts';
import { ChatClient, textOf, type PartFrame } from './ws-client.ts';

let sb: Switchboard;
let dir: string;
const clients: ChatClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'webchat-e2e-'));
  sb = await startSwitchboard({
    env: { PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`, DATA_DIR: dir, LOG_LEVEL: 'silent' },
    bot: createDemoBot(),
  });
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await sb?.close();
  await rm(dir, { recursive: true, force: true });
});

async function person(token?: string): Promise<ChatClient> {
  const c = new ChatClient(token);
  clients.push(c);
  await c.connect(sb.url!);
  return c;
}

/** Waits until the bot has shown `n` parts, and returns their texts. */
async function botTexts(c: ChatClient, n: number): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  while (c.parts().length < n) {
    if (Date.now() > deadline) throw new Error(`bot showed ${c.parts().length} of ${n} parts: ${JSON.stringify(c.texts())}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return c.texts();
}

function buttonLabels(part: PartFrame | undefined): string[][] {
  return (part?.buttons ?? []).map((row) => row.map((b) => b.label));
}

function press(c: ChatClient, label: string) {
  const part = [...c.parts()].reverse().find((p) => p.buttons?.flat().some((b) => b.label === label));
  const button = part?.buttons?.flat().find((b) => b.label === label);
  if (!part || !button?.payload) throw new Error(`no button "${label}" among ${JSON.stringify(c.parts().map(buttonLabels))}`);
  return c.sendAcked({ type: 'action', payload: button.payload, messageId: part.id });
}

describe('web chat end to end with the demo bot', () => {
  it('greets, runs the dialog from a button, and shows the conversation again after a reconnect', async () => {
    const c = await person();
    expect((await c.next((f) => f.type === 'welcome')).fresh).toBe(true);

    await c.sendAcked({ type: 'start' });
    const [greeting] = await botTexts(c, 1);
    expect(greeting).toContain('Hello!');
    expect(greeting).toContain('Switchboard demo bot');
    expect(c.parts()[0].html).toContain('<b>Switchboard</b>');
    expect(buttonLabels(c.parts()[0])).toEqual([['Tell me about yourself'], ['What can you do?'], ['Documentation']]);
    expect(c.parts()[0].buttons![2][0]).toMatchObject({ type: 'url' });

    await press(c, 'Tell me about yourself');
    expect((await botTexts(c, 2))[1]).toBe('What is your name?');
    await c.sendAcked({ type: 'text', text: 'Ada' });
    expect((await botTexts(c, 3))[2]).toBe('Nice to meet you, Ada! Which city are you from?');
    await c.sendAcked({ type: 'text', text: 'London' });
    expect((await botTexts(c, 4))[3]).toBe('Thank you, Ada! I will remember that you are from London.');

    // A reload: the same token brings back the whole conversation, both sides, in order.
    const shown = c.texts();
    await c.close();
    const again = await person(c.token);
    const welcome = again.frames.find((f) => f.type === 'welcome')!;
    expect(welcome.fresh).toBe(false);
    expect(welcome.visitor).toBe(c.visitor);
    const history = welcome.history as Array<{ dir: string; view?: { text?: string; action?: string }; parts?: PartFrame[] }>;
    expect(history.map((e) => (e.dir === 'in' ? `> ${e.view?.text ?? e.view?.action}` : e.parts!.map((p) => textOf(p.html)).join('\n')))).toEqual([
      shown[0],
      '> Tell me about yourself',
      shown[1],
      '> Ada',
      shown[2],
      '> London',
      shown[3],
    ]);
    // The buttons of the history still work.
    await press(again, 'What can you do?');
    expect((await botTexts(again, 5))[4]).toContain('Here is what I can do');
  });

  it('answers a malformed frame with an error and stores nothing', async () => {
    const c = await person();
    const before = await sb.store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    c.sendRaw('{"type":"text","id":"broken-frame-1","text":');
    c.sendRaw(JSON.stringify({ type: 'text', id: 'too-long-frame-1', text: 'x'.repeat(5000) }));
    c.sendRaw(JSON.stringify({ type: 'action', id: 'forged-action-1', payload: 'profile' }));
    const errors = await c.count((f) => f.type === 'error', 3);
    expect(errors.map((e) => e.code)).toEqual(['bad-json', 'too-long', 'unknown-action']);
    const after = await sb.store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    // The socket is still good.
    await c.sendAcked({ type: 'text', text: 'hello after all that' });
    expect((await botTexts(c, 1))[0]).toBe('You said: «hello after all that»');
  });

  it('answers every message of a person who writes faster than the bot answers, in order', async () => {
    const c = await person();
    const words = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'];
    const ids = words.map((text) => c.send({ type: 'text', text }));
    const acks = await c.count((f) => f.type === 'ack' && ids.includes(f.id as string), words.length);
    expect(acks.every((a) => a.duplicate === false)).toBe(true);
    expect(await botTexts(c, words.length)).toEqual(words.map((w) => `You said: «${w}»`));
  });
});
