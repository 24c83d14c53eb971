/**
 * The conformance driver works in both modes before the lead's runtime exists: a Fastify app
 * with the connector's routes, a fake inbox, and a tiny bot that answers through connector.send.
 */
import Fastify from 'fastify';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import telegramDriver from '../../conformance/drivers/telegram.ts';
import type { InboundUpdate } from '../../../src/core/model.ts';
import { FakeInbox, delivery, until } from './helpers.ts';

describe.each(telegramDriver.modes)('Telegram conformance driver (%s)', (mode) => {
  it('carries a short dialog: start, buttons, photo, contact, location, blocking', async () => {
    const setup = await telegramDriver.setup(mode);
    const { connector } = setup;
    const inbox = new FakeInbox();
    const app = Fastify();
    const stop = new AbortController();
    const ctx = inbox.context(stop.signal);
    // The "bot": greet on start with two buttons.
    const original = ctx.inbox;
    ctx.inbox = async (u: InboundUpdate) => {
      const r = await original(u);
      if (!r.duplicate && u.event.kind === 'start') {
        const msg = { text: 'Welcome!', buttons: [[{ type: 'action' as const, label: 'Events', payload: 'events' }, { type: 'action' as const, label: 'Help', payload: 'help' }]] };
        void connector.send(delivery(msg, connector.capabilities, u.chatId));
      }
      return r;
    };
    await connector.registerRoutes?.(app, ctx);
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await setup.attach?.(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`);
      await connector.start?.(ctx);
      const alice = setup.person('alice');
      await alice.start();
      const [welcome] = await until(async () => {
        const m = await alice.messages();
        return m.length ? m : undefined;
      }, 'the welcome');
      expect(welcome).toMatchObject({ text: 'Welcome!', buttons: [['Events', 'Help']] });
      await alice.pressButton('Help');
      await alice.sendPhoto(await sharp({ create: { width: 64, height: 64, channels: 3, background: '#000' } }).png().toBuffer());
      await alice.sendContact!('+441234567890');
      await alice.sendLocation!(51.5, -0.12);
      await alice.block();
      await until(() => inbox.stored.length === 6, 'six updates');
      expect(inbox.stored.map((u) => u.event.kind)).toEqual(['start', 'action', 'message', 'message', 'message', 'membership']);
      expect(inbox.stored[3].event).toMatchObject({ contact: { phone: '+441234567890', own: true } });
      expect(inbox.stored[0].sender.name).toBe('alice');
    } finally {
      stop.abort();
      await setup.close();
      await app.close();
    }
  });
});
