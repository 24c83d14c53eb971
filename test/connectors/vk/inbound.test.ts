import { describe, expect, it } from 'vitest';
import { decodePayload, normaliseVkEvent, type VkEvent } from '../../../src/connectors/vk/inbound.ts';
import { fixture, GROUP_ID } from './helpers.ts';

const norm = (name: string) => normaliseVkEvent(fixture(name) as unknown as VkEvent, { bot: 'main', groupId: GROUP_ID });

describe('VK inbound normalisation (real-shaped payloads)', () => {
  it('reads a text message with its sender, chat, dedup key and language', () => {
    expect(norm('message_new_text')).toMatchObject({
      platform: 'vk',
      bot: 'main',
      dedupKey: '0b1f8e2a6c3d4e5f60718293a4b5c6d7e8f90a1b',
      chatId: '123456789',
      sender: { platformUserId: '123456789', language: 'ru' },
      event: { kind: 'message', text: 'Привет! Когда начало?' },
      platformMessageId: '512',
    });
  });

  it('turns the Start button into a start event, with the ref of the link the person came by', () => {
    expect(norm('message_new_start')).toMatchObject({ event: { kind: 'start' } });
    expect((norm('message_new_start') as { event: object }).event).not.toHaveProperty('payload');
    expect(norm('message_new_start_ref')).toMatchObject({ event: { kind: 'start', payload: 'expo2024' }, sender: { language: 'en' } });
  });

  it('turns a pressed chat-keyboard button into an action with its payload', () => {
    expect(norm('message_new_button')).toMatchObject({ event: { kind: 'action', payload: 'events' } });
  });

  it('takes the largest size of a photo, keeping the caption', () => {
    const u = norm('message_new_photo') as { event: { kind: string; text: string; images: { url: string; width: number }[] } };
    expect(u.event.text).toBe('мой QR');
    expect(u.event.images).toHaveLength(1);
    expect(u.event.images[0]).toMatchObject({ width: 960, height: 1280 });
    expect(u.event.images[0].url).toContain('size=960x1280');
  });

  it('reads a document with its name, size and download address', () => {
    expect(norm('message_new_doc')).toMatchObject({
      event: { kind: 'message', files: [{ name: 'programme.pdf', size: 48213, url: expect.stringContaining('doc123456789_670012345') }] },
    });
  });

  it('reads a shared location', () => {
    expect(norm('message_new_geo')).toMatchObject({ event: { kind: 'message', location: { latitude: 59.938631, longitude: 30.314129 } } });
  });

  it('strips the community mention in a group chat and uses the conversation message id', () => {
    expect(norm('message_new_chat_mention')).toMatchObject({
      chatId: '2000000004',
      event: { kind: 'message', text: 'расписание' },
      platformMessageId: 'cmid:977',
    });
  });

  it('turns a callback-button press into an action pointing at the message that carried it', () => {
    expect(norm('message_event')).toMatchObject({
      dedupKey: '9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f',
      chatId: '123456789',
      sender: { platformUserId: '123456789' },
      event: { kind: 'action', payload: 'register:42', sourceMessageId: 'cmid:49' },
    });
  });

  it('turns message_allow / message_deny into membership changes', () => {
    expect(norm('message_allow')).toMatchObject({ chatId: '123456789', event: { kind: 'membership', status: 'allowed' } });
    expect(norm('message_deny')).toMatchObject({ chatId: '123456789', event: { kind: 'membership', status: 'blocked' } });
  });

  it('skips what a bot cannot read or did not ask for, saying why', () => {
    expect(norm('message_new_sticker')).toHaveProperty('skip');
    expect(norm('message_reply')).toHaveProperty('skip');
    expect(normaliseVkEvent({ type: 'message_new', object: { message: 'x' } }, { bot: 'main', groupId: 1 })).toHaveProperty('skip');
    expect(normaliseVkEvent({ type: 'message_event', object: { user_id: 1, peer_id: 1, payload: { other: 1 } } }, { bot: 'main', groupId: 1 })).toHaveProperty('skip');
  });

  it('keeps the untouched payload for audit', () => {
    const raw = fixture('message_new_text');
    expect((norm('message_new_text') as { raw: unknown }).raw).toEqual(raw);
  });
});

describe('VK button payloads', () => {
  it('reads our own, the Start button, the `command` habit and bare strings', () => {
    expect(decodePayload('{"a":"x:1"}')).toEqual({ action: 'x:1' });
    expect(decodePayload({ a: 'y' })).toEqual({ action: 'y' });
    expect(decodePayload('{"command":"start"}')).toEqual({ start: true });
    expect(decodePayload('{"command":"menu"}')).toEqual({ action: 'menu' });
    expect(decodePayload('"plain"')).toEqual({ action: 'plain' });
    expect(decodePayload('not json')).toBeNull();
    expect(decodePayload('{"b":1}')).toBeNull();
  });
});
