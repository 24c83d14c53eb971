/**
 * The benchmark's Switchboard bot (BOT_MODULE): replies to every text with the same text — the
 * same bot the grammY and Chat SDK peers run.
 */
import { Bot } from '../../src/core/index.ts';

export function createBot(): Bot {
  const bot = new Bot();
  bot.on('message:text', (ctx) => ctx.reply(ctx.event.text));
  return bot;
}
