/**
 * A tiny stand-in for the runtime in core tests: it keeps one conversation's person and state
 * between turns, and passes the state through JSON as the database would, so every turn starts
 * as if after a restart.
 */
import type { BotLogic, HandleInput, HandleOutput, JsonObject } from '../../src/core/handling.ts';
import type { ConversationRef, InboundEvent, Person } from '../../src/core/model.ts';
import { plainText } from '../../src/core/format.ts';

export function makeInput(event: InboundEvent, over: Partial<HandleInput> = {}): HandleInput {
  return {
    messageId: 1,
    event,
    person: { id: 7, name: null, language: 'en', identities: [{ platform: 'webchat', platformUserId: 'u1' }] },
    conversation: { id: 3, bot: 'demo', platform: 'webchat', chatId: 'c1' },
    state: {},
    ...over,
  };
}

export const text = (t: string): InboundEvent => ({ kind: 'message', text: t });
export const press = (payload: string): InboundEvent => ({ kind: 'action', payload });
export const start = (payload?: string): InboundEvent => ({ kind: 'start', ...(payload ? { payload } : {}) });

/** One conversation driven turn by turn. */
export class Chat {
  person: Person;
  conversation: ConversationRef;
  /** The state as stored: a JSON string, as a database column would hold it. */
  stored = '{}';
  #nextId = 1;

  constructor(
    readonly bot: BotLogic,
    language: string | null = 'en',
  ) {
    this.person = { id: 7, name: null, language, identities: [{ platform: 'webchat', platformUserId: 'u1' }] };
    this.conversation = { id: 3, bot: 'demo', platform: 'webchat', chatId: 'c1' };
  }

  /** The same conversation on a new bot instance, as after a restart: only stored data carries over. */
  restart(bot: BotLogic): Chat {
    const next = new Chat(bot, this.person.language);
    next.person = structuredClone(this.person);
    next.stored = this.stored;
    next.#nextId = this.#nextId;
    return next;
  }

  get state(): JsonObject {
    return JSON.parse(this.stored) as JsonObject;
  }

  async send(event: InboundEvent): Promise<HandleOutput> {
    const out = await this.bot.handle({
      messageId: this.#nextId++,
      event,
      person: structuredClone(this.person),
      conversation: this.conversation,
      state: JSON.parse(this.stored) as JsonObject,
    });
    if (out.state) this.stored = JSON.stringify(out.state);
    if (out.person?.name !== undefined) this.person.name = out.person.name;
    if (out.person?.language !== undefined) this.person.language = out.person.language;
    return out;
  }

  /** The plain texts the bot answered with. */
  async say(event: InboundEvent | string): Promise<string[]> {
    const out = await this.send(typeof event === 'string' ? text(event) : event);
    return out.outbox.map((o) => (o.message.text === undefined ? '' : plainText(o.message.text)));
  }
}
