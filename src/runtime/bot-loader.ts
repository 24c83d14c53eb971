/**
 * Loads the bot logic: a module named by BOT_MODULE (its default export, or `createBot()`), or
 * the demo bot.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BotLogic } from '../core/handling.ts';

function isBot(x: unknown): x is BotLogic {
  return typeof x === 'object' && x !== null && typeof (x as BotLogic).handle === 'function';
}

export async function loadBot(modulePath: string | undefined): Promise<BotLogic> {
  if (!modulePath) {
    const { createDemoBot } = await import('../bot/demo.ts');
    return createDemoBot();
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path.resolve(modulePath)).href)) as Record<string, unknown>;
  } catch (err: unknown) {
    throw new Error(`BOT_MODULE: cannot load "${modulePath}"`, { cause: err });
  }
  const candidate = isBot(mod.default) ? mod.default : typeof mod.createBot === 'function' ? await (mod.createBot as () => unknown)() : mod.default;
  if (!isBot(candidate)) throw new Error(`BOT_MODULE: "${modulePath}" must export a bot as default or a createBot() function`);
  return candidate;
}
