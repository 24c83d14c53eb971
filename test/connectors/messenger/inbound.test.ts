import { describe, expect, it } from 'vitest';
import { normalizeWebhook } from '../../../src/connectors/messenger/inbound.ts';
import { fixtureJson } from './helpers.ts';

const opts = { bot: 'main', getStartedPayload: 'GET_STARTED' };
const one = (name: string) => {
  const { updates, skipped } = normalizeWebhook(fixtureJson(name), opts);
  expect(skipped).toEqual([]);
  expect(updates).toHaveLength(1);
  return updates[0];
};

describe('Messenger inbound normalisation', () => {
  it('turns a text message into a message keyed by its mid, in the sender’s chat', () => {
    const u = one('text');
    expect(u).toMatchObject({
      platform: 'messenger',
      bot: 'main',
      chatId: '7012345678901234',
      sender: { platformUserId: '7012345678901234' },
      dedupKey: 'm_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P',
      event: { kind: 'message', text: 'hello, world!' },
    });
    expect(u.platformMessageId).toBe(u.dedupKey);
    expect(u.raw).toMatchObject({ message: { text: 'hello, world!' } });
  });

  it('turns Get Started into a start, with the m.me ref as its payload when there is one', () => {
    expect(one('get-started').event).toEqual({ kind: 'start' });
    expect(one('get-started-referral').event).toEqual({ kind: 'start', payload: 'event-42' });
  });

  it('honours a configured Get Started payload', () => {
    const { updates } = normalizeWebhook(fixtureJson('get-started'), { bot: 'main', getStartedPayload: 'START_HERE' });
    expect(updates[0].event).toEqual({ kind: 'action', payload: 'GET_STARTED' });
  });

  it('turns template postbacks and quick replies into actions keyed by mid', () => {
    const pb = one('postback');
    expect(pb.event).toEqual({ kind: 'action', payload: 'register:42' });
    expect(pb.dedupKey).toBe('m_pb_NEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8');
    const qr = one('quick-reply');
    expect(qr.event).toEqual({ kind: 'action', payload: 'events' });
    expect(qr.dedupKey).toBe('m_qr_7uwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxq');
  });

  it('turns the phone quick reply into the person’s own contact', () => {
    expect(one('phone-quick-reply').event).toEqual({ kind: 'message', contact: { phone: '+16505551234', own: true } });
  });

  it('carries images, stickers and files as attachments with their download URLs', () => {
    const img = one('image').event;
    expect(img).toMatchObject({ kind: 'message', images: [{ url: expect.stringContaining('scontent.xx.fbcdn.net') }] });
    expect(one('sticker').event).toMatchObject({ kind: 'message', images: [{ url: expect.stringContaining('.png') }] });
    const file = one('file').event;
    expect(file).toMatchObject({ kind: 'message', files: [{ url: expect.stringContaining('programme.pdf') }] });
    if (file.kind === 'message') expect(file.files?.[0].ref).toBe(file.files?.[0].url);
  });

  it('keeps what a message replies to, and legacy shared locations', () => {
    expect(one('reply').event).toMatchObject({ text: 'this one', replyTo: expect.stringMatching(/^m_AG5/) });
    expect(one('location').event).toEqual({ kind: 'message', location: { latitude: 55.7558, longitude: 37.6173 } });
  });

  it('treats a referral in an existing thread as a start with the ref', () => {
    const u = one('referral');
    expect(u.event).toEqual({ kind: 'start', payload: 'talk-7' });
    expect(u.dedupKey).toBe('referral:7012345678901234:1717171796900');
  });

  it('yields every event of a batched body, across entries, in order', () => {
    const { updates, skipped } = normalizeWebhook(fixtureJson('batched'), opts);
    expect(skipped).toEqual([]);
    expect(updates.map((u) => [u.chatId, u.event.kind])).toEqual([
      ['7012345678901234', 'message'],
      ['7012345678901234', 'action'],
      ['7098765432109876', 'message'],
    ]);
  });

  it('skips echoes, receipts and other objects with a reason instead of storing them', () => {
    for (const name of ['echo', 'read', 'delivery', 'instagram']) {
      const { updates, skipped } = normalizeWebhook(fixtureJson(name), opts);
      expect(updates, name).toEqual([]);
      expect(skipped.length, name).toBe(1);
    }
    expect(normalizeWebhook(fixtureJson('echo'), opts).skipped[0]).toMatch(/echo/);
  });

  it('never throws on shapes it does not know', () => {
    for (const body of [null, 42, 'x', [], { object: 'page' }, { object: 'page', entry: [null, 1, { messaging: [null, {}, { sender: {} }] }] }]) {
      expect(() => normalizeWebhook(body, opts)).not.toThrow();
      expect(normalizeWebhook(body, opts).updates).toEqual([]);
    }
  });
});
