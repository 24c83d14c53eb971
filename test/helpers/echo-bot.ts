/**
 * A minimal BotLogic for runtime tests, independent of the framework: echoes text, counts turns
 * in state, answers actions, can be told to fail or to stall.
 */
import type { BotLogic, HandleOutput } from '../../src/core/handling.ts';

export interface EchoBotOptions {
  /** Texts that make the handler throw (the runtime retries, then fails the message). */
  failOn?: Set<string>;
  /** Called before handling; a test can block here to simulate a slow handler. */
  before?: (text: string | undefined) => Promise<void>;
}

export function createEchoBot(opts: EchoBotOptions = {}): BotLogic & { handled: string[] } {
  const handled: string[] = [];
  return {
    handled,
    async handle(input): Promise<HandleOutput> {
      const e = input.event;
      const text = e.kind === 'message' ? e.text : e.kind === 'action' ? `action:${e.payload}` : e.kind;
      await opts.before?.(text);
      if (text && opts.failOn?.has(text)) throw new Error(`cannot handle ${text}`);
      handled.push(`${input.conversation.chatId}:${text}`);
      const turns = Number(input.state.turns ?? 0) + 1;
      if (text === 'menu') {
        return {
          state: { ...input.state, turns },
          outbox: [{ message: { text: 'pick', buttons: [[{ type: 'action', label: 'Alpha', payload: 'a' }, { type: 'action', label: 'Beta', payload: 'b' }]] } }],
        };
      }
      return { state: { ...input.state, turns }, outbox: [{ message: { text: `echo ${text} #${turns}` } }] };
    },
  };
}
