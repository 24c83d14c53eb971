import { afterEach, describe, expect, it } from 'vitest';
import { startVkEmulator, type VkEmulator } from '../../../emulators/vk/index.ts';
import type { Connector } from '../../../src/connectors/connector.ts';
import { createVkConnector } from '../../../src/connectors/vk/index.ts';
import { FakeInbox, until } from './helpers.ts';

let vk: VkEmulator;
let connector: Connector;
let stop: AbortController;

async function setup(inbox: FakeInbox, opts: { wait?: number } = {}) {
  vk = await startVkEmulator({ groupId: 77 });
  connector = createVkConnector({ ...vk.connectorOptions, mode: 'longpoll', longPollWait: opts.wait ?? 1 });
  stop = new AbortController();
  await connector.start?.(inbox.context(stop.signal));
  // Events before the first key are not the poller's: wait until it holds one.
  await until(async () => (await vk.client.calls('groups.getLongPollServer')).some((c) => !c.errorCode));
}

afterEach(async () => {
  stop.abort();
  await connector.close?.();
  await vk.close();
});

const texts = (inbox: FakeInbox) => inbox.updates.map((u) => (u.event as { text?: string }).text ?? u.event.kind);

describe('VK Bots Long Poll', () => {
  it('polls as a poll-mode connector and receives events in order', async () => {
    const inbox = new FakeInbox();
    await setup(inbox);
    expect(connector.receiveMode).toBe('poll');
    const p = vk.client.person(5);
    await p.start();
    for (const t of ['one', 'two', 'three']) await p.sendText(t);
    await inbox.waitFor(4);
    expect(texts(inbox)).toEqual(['start', 'one', 'two', 'three']);
  });

  it('gets a new key when VK says it expired (failed 2), losing nothing', async () => {
    const inbox = new FakeInbox();
    await setup(inbox);
    const p = vk.client.person(5);
    await p.sendText('before');
    await inbox.waitFor(1);
    await vk.client.expireLongPollKeys();
    await p.sendText('after');
    await inbox.waitFor(2);
    expect(texts(inbox)).toEqual(['before', 'after']);
    expect((await vk.client.events()).longPollFailed['2']).toBeGreaterThanOrEqual(1);
    expect((await vk.client.calls('groups.getLongPollServer')).length).toBeGreaterThanOrEqual(2);
  });

  it('continues from the newest events when the ones it missed fell out of the history (failed 1)', async () => {
    // A slow store: while the first event is being stored, more arrive than VK keeps.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const inbox = new FakeInbox();
    const store = inbox.inbox;
    const slow: typeof store = async (u) => {
      if (inbox.updates.length === 0) await gate;
      return store(u);
    };
    vk = await startVkEmulator({ groupId: 77, longPollHistory: 2 });
    connector = createVkConnector({ ...vk.connectorOptions, mode: 'longpoll', longPollWait: 1 });
    stop = new AbortController();
    await connector.start?.({ ...inbox.context(stop.signal), inbox: slow });
    await until(async () => (await vk.client.calls('groups.getLongPollServer')).some((c) => !c.errorCode));
    const p = vk.client.person(6);
    const first = await p.sendText('first');
    await vk.client.waitDelivered(first.eventId!);
    for (const t of ['lost 1', 'lost 2', 'lost 3', 'lost 4']) await p.sendText(t);
    release();
    await inbox.waitFor(1);
    await new Promise((r) => setTimeout(r, 100));
    await p.sendText('after');
    await inbox.waitFor(2);
    expect(texts(inbox)).toEqual(['first', 'after']);
    expect((await vk.client.events()).longPollFailed['1']).toBe(1);
  });

  it('recovers when the server lost its state (failed 3) and keeps receiving', async () => {
    const inbox = new FakeInbox();
    await setup(inbox);
    const p = vk.client.person(7);
    await p.sendText('one');
    await inbox.waitFor(1);
    await vk.client.loseLongPoll();
    await until(async () => (await vk.client.calls('groups.getLongPollServer')).length >= 2);
    await p.sendText('two');
    await inbox.waitFor(2);
    expect(texts(inbox)).toEqual(['one', 'two']);
    expect((await vk.client.events()).longPollFailed['3']).toBeGreaterThanOrEqual(1);
  });

  it('does not move past events it could not store: they come again', async () => {
    const inbox = new FakeInbox();
    inbox.failNext = 1;
    await setup(inbox);
    const p = vk.client.person(8);
    await p.sendText('must not be lost');
    await inbox.waitFor(1, 20_000);
    expect(texts(inbox)).toEqual(['must not be lost']);
  });

  it('retries after VK API errors and answers callback buttons', async () => {
    const inbox = new FakeInbox();
    vk = await startVkEmulator({ groupId: 77 });
    await vk.client.inject({ method: 'groups.getLongPollServer', error: 10 });
    connector = createVkConnector({ ...vk.connectorOptions, mode: 'longpoll', longPollWait: 1 });
    stop = new AbortController();
    await connector.start?.(inbox.context(stop.signal));
    // Events before the first key are not the poller's: wait until it holds one.
    await until(async () => (await vk.client.calls('groups.getLongPollServer')).some((c) => !c.errorCode), 20_000);
    const p = vk.client.person(9);
    await p.sendText('menu');
    await inbox.waitFor(1, 20_000);
    await connector.send({
      messageId: 3,
      conversation: { id: 1, bot: 'main', platform: 'vk', chatId: '9' },
      recipient: '9',
      message: {},
      plan: { parts: [{ text: [{ text: 'Menu' }], buttons: [[{ type: 'action', label: 'Go', payload: 'go' }]], keyboard: 'inline' }], options: [] },
      attempt: 1,
    });
    await p.press('Go');
    await inbox.waitFor(2);
    expect(inbox.updates[1].event).toMatchObject({ kind: 'action', payload: 'go' });
    await until(async () => (await vk.client.eventAnswers())[0]?.answers.length === 1);
  });

  it('resumes where it stopped when started again after its signal aborted (the poll lease came back)', async () => {
    const inbox = new FakeInbox();
    await setup(inbox);
    const p = vk.client.person(11);
    await p.sendText('first');
    await inbox.waitFor(1);
    stop.abort();
    await new Promise((r) => setTimeout(r, 100));
    await p.sendText('while away');
    stop = new AbortController();
    await connector.start?.(inbox.context(stop.signal));
    await p.sendText('back');
    await inbox.waitFor(3);
    expect(texts(inbox)).toEqual(['first', 'while away', 'back']);
  });

  it('stops polling when its signal aborts', async () => {
    const inbox = new FakeInbox();
    await setup(inbox);
    stop.abort();
    await connector.close?.();
    await vk.client.person(10).sendText('nobody listens');
    await new Promise((r) => setTimeout(r, 300));
    expect(inbox.updates).toEqual([]);
  });
});
