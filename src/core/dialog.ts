/**
 * Multi-step dialogs, declared once and driven by the conversation's state:
 *
 * ```ts
 * bot.dialog('profile')
 *   .ask('name', (ctx) => ctx.t('profile.ask_name'), { validate: (v, ctx) => (v.length > 64 ? ctx.t('profile.too_long') : undefined) })
 *   .ask('city', (ctx, answers) => ctx.t('profile.ask_city', { name: answers.name }))
 *   .done(async (ctx, answers) => { ctx.state.profile = answers; });
 *
 * bot.command('profile', (ctx) => ctx.dialog.enter('profile'));
 * ```
 *
 * The position (dialog name, current step key, answers so far) is plain JSON under
 * `state.$dialog`, so it survives a restart when the runtime persists the state. While a dialog is
 * active, its step takes the next message before any other handler — except commands (`/start`,
 * `/cancel`, …), which route as usual; button presses reach the step only when its `parse`
 * accepts them. An invalid answer gets a message and the question again.
 */
import type { AnyContext, MaybePromise, MiddlewareFn } from './composer.ts';
import { parseCommand } from './composer.ts';
import type { RichText } from './format.ts';
import type { Json, JsonObject } from './handling.ts';
import type { OutgoingMessage } from './model.ts';

/** Where the state keeps the active dialog. */
export const DIALOG_STATE_KEY = '$dialog';

/** The persisted position of an active dialog. */
export interface DialogPosition {
  name: string;
  /** Key of the step whose answer is awaited (a key, not an index, so adding steps is safe). */
  step: string;
  answers: JsonObject;
}

/** What a dialog says: text, or a whole message (with buttons, a contact request, …). */
export type Say = RichText | OutgoingMessage;

export interface AskOptions<C, V, A> {
  /**
   * Turns the event into an answer. Default: the trimmed text of a message that is not a
   * command. Returning `undefined` re-asks for a message, and lets a button press pass on to
   * the other handlers.
   */
  parse?: (ctx: C) => MaybePromise<V | undefined>;
  /** Checks an answer; return a message to re-ask with it, or nothing to accept the answer. */
  validate?: (answer: V, ctx: C, answers: A) => MaybePromise<Say | undefined | null | void>;
  /** What to say when `parse` found no answer in a message. Default: `dialog.invalid`. */
  invalid?: (ctx: C) => MaybePromise<Say>;
}

interface StepDefinition {
  key: string;
  prompt: (ctx: AnyContext, answers: JsonObject) => MaybePromise<Say>;
  parse?: (ctx: AnyContext) => MaybePromise<Json | undefined>;
  validate?: (answer: Json, ctx: AnyContext, answers: JsonObject) => MaybePromise<Say | undefined | null | void>;
  invalid?: (ctx: AnyContext) => MaybePromise<Say>;
}

interface DialogDefinition {
  name: string;
  steps: StepDefinition[];
  done?: (ctx: AnyContext, answers: JsonObject) => unknown;
}

/** A dialog under construction: each `ask` adds a step and widens the answers' type. */
export class Dialog<C extends AnyContext, A extends JsonObject = Record<never, never>> {
  readonly #def: DialogDefinition;

  /** @internal use `bot.dialog(name)` */
  constructor(def: DialogDefinition) {
    this.#def = def;
  }

  get name(): string {
    return this.#def.name;
  }

  /** Adds a step: `prompt` asks for the answer stored under `key`. */
  ask<K extends string, V extends Json = string>(
    key: K,
    prompt: (ctx: C, answers: A) => MaybePromise<Say>,
    options: AskOptions<C, V, A> = {},
  ): Dialog<C, A & { [P in K]: V }> {
    if (this.#def.steps.some((s) => s.key === key)) throw new Error(`Dialog '${this.#def.name}' already asks '${key}'`);
    this.#def.steps.push({ key, ...options, prompt } as unknown as StepDefinition);
    return this as unknown as Dialog<C, A & { [P in K]: V }>;
  }

  /** Runs when the last answer is accepted; the dialog has been left by then. */
  done(handler: (ctx: C, answers: A) => unknown): this {
    this.#def.done = handler as DialogDefinition['done'];
    return this;
  }
}

/** The dialogs of one bot, by name. */
export class DialogRegistry {
  readonly #dialogs = new Map<string, DialogDefinition>();

  define<C extends AnyContext>(name: string): Dialog<C> {
    if (!name) throw new Error('A dialog needs a name');
    if (this.#dialogs.has(name)) throw new Error(`Dialog '${name}' is declared twice`);
    const def: DialogDefinition = { name, steps: [] };
    this.#dialogs.set(name, def);
    return new Dialog<C>(def);
  }

  get(name: string): DialogDefinition | undefined {
    return this.#dialogs.get(name);
  }

  get names(): string[] {
    return [...this.#dialogs.keys()];
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `ctx.dialog`: enter, leave and inspect the conversation's dialog. */
export class DialogControl {
  readonly #ctx: AnyContext;
  readonly #registry: DialogRegistry;

  constructor(ctx: AnyContext, registry: DialogRegistry) {
    this.#ctx = ctx;
    this.#registry = registry;
  }

  /** The persisted position, or undefined when no (well-formed) dialog is active. */
  get position(): DialogPosition | undefined {
    const raw = (this.#ctx.state as Record<string, unknown>)[DIALOG_STATE_KEY];
    if (!isObject(raw) || typeof raw.name !== 'string' || typeof raw.step !== 'string' || !isObject(raw.answers)) {
      return undefined;
    }
    return raw as unknown as DialogPosition;
  }

  /** Name of the active dialog. */
  get active(): string | undefined {
    return this.position?.name;
  }

  /** Starts dialog `name` from its first step (replacing any active one) and asks it. */
  async enter(name: string): Promise<void> {
    const def = this.#registry.get(name);
    if (!def) throw new Error(`Unknown dialog '${name}'. Declared: ${this.#registry.names.join(', ') || 'none'}`);
    this.leave();
    if (def.steps.length === 0) {
      await def.done?.(this.#ctx, {});
      return;
    }
    this.#write({ name, step: def.steps[0].key, answers: {} });
    await this.#ask(def.steps[0], {});
  }

  /** Leaves the active dialog, forgetting its answers. Returns whether one was active. */
  leave(): boolean {
    const had = this.position !== undefined;
    delete (this.#ctx.state as Record<string, unknown>)[DIALOG_STATE_KEY];
    return had;
  }

  #write(position: DialogPosition): void {
    (this.#ctx.state as Record<string, unknown>)[DIALOG_STATE_KEY] = position;
  }

  async #ask(step: StepDefinition, answers: JsonObject): Promise<void> {
    this.#ctx.reply(await step.prompt(this.#ctx, answers));
  }

  /**
   * Offers the event to the active dialog's step. Returns false when the event is not for it
   * (no dialog, a command, a button the step does not take, a dialog or step that no longer
   * exists after a deploy — then the stale position is dropped).
   */
  async handle(): Promise<boolean> {
    const state = this.#ctx.state as Record<string, unknown>;
    if (!(DIALOG_STATE_KEY in state)) return false;
    const position = this.position;
    const def = position && this.#registry.get(position.name);
    const index = def ? def.steps.findIndex((s) => s.key === position.step) : -1;
    if (!position || !def || index < 0) {
      delete state[DIALOG_STATE_KEY];
      return false;
    }
    const event = this.#ctx.event;
    if (event.kind !== 'message' && event.kind !== 'action') return false;
    if (event.kind === 'message' && event.text && parseCommand(event.text)) return false;

    const step = def.steps[index];
    const answer = step.parse ? await step.parse(this.#ctx) : defaultParse(this.#ctx);
    if (answer === undefined) {
      if (event.kind === 'action') return false;
      this.#ctx.reply(step.invalid ? await step.invalid(this.#ctx) : this.#ctx.t('dialog.invalid'));
      await this.#ask(step, position.answers);
      return true;
    }
    const problem = await step.validate?.(answer, this.#ctx, position.answers);
    if (problem) {
      this.#ctx.reply(problem);
      await this.#ask(step, position.answers);
      return true;
    }

    const answers = { ...position.answers, [step.key]: answer };
    const following = def.steps[index + 1];
    if (following) {
      this.#write({ name: def.name, step: following.key, answers });
      await this.#ask(following, answers);
    } else {
      this.leave();
      await def.done?.(this.#ctx, answers);
    }
    return true;
  }
}

function defaultParse(ctx: AnyContext): string | undefined {
  const e = ctx.event;
  const text = e.kind === 'message' ? e.text?.trim() : undefined;
  return text ? text : undefined;
}

/** The middleware that gives the active dialog the first look at each event. */
export function dialogMiddleware(): MiddlewareFn<AnyContext> {
  return async (ctx, next) => {
    if (!(await ctx.dialog.handle())) await next();
  };
}
