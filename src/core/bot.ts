/**
 * A bot: a composer of handlers, its dialogs and its catalogues, runnable by the runtime through
 * `BotLogic.handle`. One `Bot` serves every platform and every conversation; a turn's data lives
 * in its `Context`, so `handle` can run for many conversations at once.
 *
 * ```ts
 * const bot = new Bot({ i18n: new I18n({ en, ru }) });
 * bot.start((ctx) => ctx.reply(ctx.t('welcome'), { buttons: [[action(ctx.t('events'), 'events')]] }));
 * bot.action('events', (ctx) => showEvents(ctx));
 * bot.on('message:image', (ctx) => scanQr(ctx));
 * ```
 */
import { BotError, Composer } from './composer.ts';
import { Context } from './context.ts';
import { type Dialog, DialogRegistry, dialogMiddleware } from './dialog.ts';
import type { BotLogic, HandleInput, HandleOutput, JsonObject } from './handling.ts';
import { I18n } from './i18n.ts';

export interface BotOptions {
  /** Catalogues for `ctx.t`; default: the framework's own messages only, English fallback. */
  i18n?: I18n;
}

export class Bot<S extends object = JsonObject> extends Composer<Context<S>> implements BotLogic {
  readonly i18n: I18n;
  readonly #dialogs = new DialogRegistry();
  #errorHandler?: (error: BotError<Context<S>>) => unknown;
  /** The active dialog's step first, then the handlers (read afresh on every turn). */
  readonly #run = new Composer<Context<S>>(dialogMiddleware(), this).middleware();

  constructor(options: BotOptions = {}) {
    super();
    this.i18n = options.i18n ?? new I18n();
  }

  /**
   * Declares a multi-step dialog; enter it with `ctx.dialog.enter(name)`. While it is active
   * its step sees each message before the bot's other handlers (commands excepted).
   */
  dialog(name: string): Dialog<Context<S>> {
    return this.#dialogs.define<Context<S>>(name);
  }

  /**
   * The bot's error boundary: a handler failure goes to `handler` and the turn completes with
   * whatever was queued (including what the handler replies). Without one, `handle` rejects
   * with the `BotError` and the runtime decides whether to retry.
   */
  catch(handler: (error: BotError<Context<S>>) => unknown): this {
    this.#errorHandler = handler;
    return this;
  }

  /** Runs one turn. Rejects with a `BotError` when a handler fails and no `catch` handles it. */
  async handle(input: HandleInput): Promise<HandleOutput> {
    const ctx = new Context<S>(input, { i18n: this.i18n, dialogs: this.#dialogs });
    try {
      let ended = false;
      await this.#run(ctx, async () => {
        // The composer guards every inner next(); this guards the last one.
        if (ended) throw new Error('next() called multiple times');
        ended = true;
      });
    } catch (err: unknown) {
      const error = err instanceof BotError ? (err as BotError<Context<S>>) : new BotError(err, ctx);
      if (!this.#errorHandler) throw error;
      try {
        await this.#errorHandler(error);
      } catch (inner: unknown) {
        throw inner instanceof BotError ? inner : new BotError(inner, ctx);
      }
    }
    return output(ctx, input);
  }
}

/** Collects what the turn changed: the outbox, the state if it changed, the person's changes. */
function output(ctx: Context<object>, input: HandleInput): HandleOutput {
  let state: unknown;
  try {
    // What the runtime will persist: round-tripping now makes undefined and Dates behave
    // exactly as they will after a restart, and a cycle or BigInt fails here, with context.
    state = JSON.parse(JSON.stringify(ctx.state));
  } catch (err: unknown) {
    throw new BotError(new Error('The conversation state is not JSON-serialisable', { cause: err }), ctx);
  }
  if (typeof state !== 'object' || state === null || Array.isArray(state)) {
    throw new BotError(new Error('The conversation state must be a JSON object'), ctx);
  }
  const out: HandleOutput = { outbox: [...ctx.outbox] };
  if (JSON.stringify(state) !== JSON.stringify(input.state)) out.state = state as JsonObject;
  const person: NonNullable<HandleOutput['person']> = {};
  if (ctx.person.name !== input.person.name) person.name = ctx.person.name;
  if (ctx.person.language !== input.person.language) person.language = ctx.person.language;
  if (Object.keys(person).length > 0) out.person = person;
  return out;
}

export { BotError };
