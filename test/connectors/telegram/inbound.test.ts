import { describe, expect, it } from 'vitest';
import { normaliseUpdate } from '../../../src/connectors/telegram/index.ts';
import type { InboundUpdate } from '../../../src/core/model.ts';
import { fixture } from './helpers.ts';

const bot = 'main';

function accepted(name: string): InboundUpdate & { callbackQueryId?: string } {
  const result = normaliseUpdate(fixture(name), { bot });
  if ('ignored' in result) throw new Error(`${name} was ignored: ${result.ignored}`);
  return { ...result.update, callbackQueryId: result.callbackQueryId };
}

describe('Telegram inbound normalisation', () => {
  it('turns a text message into a message event keyed by update_id, with the sender as Telegram describes them', () => {
    const u = accepted('text-message');
    expect(u).toMatchObject({
      platform: 'telegram',
      bot: 'main',
      dedupKey: '811100001',
      chatId: '123456789',
      platformMessageId: '10',
      sender: { platformUserId: '123456789', name: 'Alice Doe', username: 'alice_doe', language: 'ru' },
      event: { kind: 'message', text: 'Hello there' },
    });
    expect(u.raw).toEqual(fixture('text-message'));
  });

  it('turns /start into a start event, with the deep-link payload when there is one', () => {
    expect(accepted('start-command').event).toEqual({ kind: 'start' });
    expect(accepted('start-payload').event).toEqual({ kind: 'start', payload: 'ref_event-42' });
    expect(accepted('group-text').event).toEqual({ kind: 'start' });
  });

  it('keeps other commands as message text', () => {
    expect(accepted('command').event).toEqual({ kind: 'message', text: '/help me' });
  });

  it('takes the largest photo size as the image and the caption as text', () => {
    expect(accepted('photo').event).toEqual({
      kind: 'message',
      text: 'my QR',
      images: [{ ref: 'AgACAgIAAxkBAAMOZmaaa3', width: 800, height: 800, mime: 'image/jpeg', size: 58213 }],
    });
  });

  it('treats a document as a file, and an image sent as a file as an image', () => {
    expect(accepted('document').event).toEqual({
      kind: 'message',
      files: [{ ref: 'BQACAgIAAxkBAAMPZmbbb1', name: 'programme.pdf', mime: 'application/pdf', size: 183211 }],
    });
    expect(accepted('document-image').event).toMatchObject({ kind: 'message', images: [{ ref: 'BQACAgIAAxkBAAMQZmccc2', mime: 'image/png' }] });
  });

  it('trusts a contact as the sender\'s own only when contact.user_id equals from.id', () => {
    expect(accepted('contact-own').event).toEqual({
      kind: 'message',
      contact: { phone: '79161234567', firstName: 'Alice', lastName: 'Doe', own: true },
      replyTo: '9',
    });
    expect(accepted('contact-other').event).toMatchObject({ contact: { phone: '+442071234567', own: false } });
  });

  it('reads locations, also from a venue', () => {
    expect(accepted('location').event).toEqual({ kind: 'message', location: { latitude: 55.751244, longitude: 37.618423 } });
    expect(accepted('venue').event).toEqual({ kind: 'message', location: { latitude: 59.9386, longitude: 30.3141 } });
  });

  it('turns a callback query into an action to answer, with the message that carried the button', () => {
    const u = accepted('callback-query');
    expect(u.event).toEqual({ kind: 'action', payload: 'events', sourceMessageId: '20' });
    expect(u.dedupKey).toBe('811100011');
    expect(u.chatId).toBe('123456789');
    expect(u.callbackQueryId).toBe('4382bfdwdsb323b2d9');
  });

  it('turns my_chat_member kicked / member in a private chat into blocked / allowed', () => {
    expect(accepted('my-chat-member-kicked').event).toEqual({ kind: 'membership', status: 'blocked' });
    expect(accepted('my-chat-member-member').event).toEqual({ kind: 'membership', status: 'allowed' });
  });

  it('passes a pressed reply-keyboard label on as text: the runtime maps it (test/runtime/reply-keyboard.test.ts)', () => {
    expect(accepted('text-message').event).toEqual({ kind: 'message', text: 'Hello there' });
  });

  it.each(['edited-message', 'sticker', 'group-bot-added', 'inline-query', 'channel-post'])('ignores %s with a reason', (name) => {
    const result = normaliseUpdate(fixture(name), { bot });
    expect('ignored' in result && result.ignored.length > 0).toBe(true);
  });

  it('never throws on payloads of the wrong shape', () => {
    const odd = [
      { update_id: 1, message: null },
      { update_id: 2, message: { message_id: 'x', chat: {}, text: 5 } },
      { update_id: 3, message: { message_id: 1, chat: { id: 1 }, from: { id: 2 }, photo: 'nope' } },
      { update_id: 4, callback_query: { id: 7, from: null } },
      { update_id: 5, my_chat_member: { chat: { id: 1, type: 'private' }, from: { id: 1 }, new_chat_member: null } },
      { update_id: 6 },
    ];
    for (const u of odd) expect('ignored' in normaliseUpdate(u as never, { bot })).toBe(true);
  });
});
