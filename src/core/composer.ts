/**
 * The composer: a small algebra of middleware, after grammY. A middleware is
 * `(ctx, next) => unknown`; every routing helper (`on`, `command`, `hears`, `action`, `start`,
 * `filter`, `branch`, `errorBoundary`) is built from `use` and `filter`, so there is one way
 * things flow: in the order they were registered, until a handler does not call `next`.
 * Each helper returns a child composer, so routes nest: `bot.on('message').hears(/hi/i, …)`.
 */
import type { Context } from './context.ts';
import type {
  ActionEvent,
  Attachment,
  Contact,
  GeoLocation,
  InboundEvent,
  MembershipEvent,
  MessageEvent,
  StartEvent,
  SystemEvent,
} from './model.ts';

export type MaybePromise<T> = T | Promise<T>;
export type MaybeArray<T> = T | T[];
/** Runs the rest of the chain; resolves when it has finished. */
export type NextFunction = () => Promise<void>;
export type MiddlewareFn<C> = (ctx: C, next: NextFunction) => unknown;
export interface MiddlewareObj<C> {
  middleware(): MiddlewareFn<C>;
}
export type Middleware<C> = MiddlewareFn<C> | MiddlewareObj<C>;

/** Any context, whatever its state type. */
export type AnyContext = Context<object>;

type NonEmpty<T> = [T, ...T[]];

/** Filter queries and the event each one guarantees. */
export interface FilterMap {
  message: MessageEvent;
  'message:text': MessageEvent & { text: string };
  'message:image': MessageEvent & { images: NonEmpty<Attachment> };
  'message:file': MessageEvent & { files: NonEmpty<Attachment> };
  'message:contact': MessageEvent & { contact: Contact };
  'message:location': MessageEvent & { location: GeoLocation };
  'message:reply': MessageEvent & { replyTo: string };
  action: ActionEvent;
  start: StartEvent;
  'start:payload': StartEvent & { payload: string };
  membership: MembershipEvent;
  'membership:blocked': MembershipEvent & { status: 'blocked' };
  'membership:allowed': MembershipEvent & { status: 'allowed' };
  system: SystemEvent;
}
export type FilterQuery = keyof FilterMap;

/** The context narrowed to the events a query (or a union of queries) lets through. */
export type Filtered<C, Q extends FilterQuery> = C & { readonly event: FilterMap[Q] };
/** What `ctx.match` holds for a trigger: the RegExp match, or the matched text / action data. */
export type MatchOf<T> = T extends RegExp ? RegExpMatchArray : string;
export type HearsContext<C, T = string | RegExp> = Filtered<C, 'message:text'> & { match: MatchOf<T> };
export type CommandContext<C> = Filtered<C, 'message:text'> & { match: string };
export type ActionContext<C, T = string | RegExp> = Filtered<C, 'action'> & { match: MatchOf<T> };
export type SystemContext<C, T = string | RegExp> = Filtered<C, 'system'> & { match: MatchOf<T> };
/** `start` runs on a start event or a typed `/start`; `match` is the deep-link payload or ''. */
export type StartContext<C> = C & { readonly event: StartEvent | FilterMap['message:text']; match: string };

const nonEmpty = (a: unknown[] | undefined) => a !== undefined && a.length > 0;

/** The run-time side of `FilterMap`: one predicate per query, so both lists cannot drift apart. */
const FILTERS: { [Q in FilterQuery]: (e: InboundEvent) => boolean } = {
  message: (e) => e.kind === 'message',
  'message:text': (e) => e.kind === 'message' && typeof e.text === 'string' && e.text.length > 0,
  'message:image': (e) => e.kind === 'message' && nonEmpty(e.images),
  'message:file': (e) => e.kind === 'message' && nonEmpty(e.files),
  'message:contact': (e) => e.kind === 'message' && e.contact !== undefined,
  'message:location': (e) => e.kind === 'message' && e.location !== undefined,
  'message:reply': (e) => e.kind === 'message' && typeof e.replyTo === 'string',
  action: (e) => e.kind === 'action',
  start: (e) => e.kind === 'start',
  'start:payload': (e) => e.kind === 'start' && typeof e.payload === 'string' && e.payload.length > 0,
  membership: (e) => e.kind === 'membership',
  'membership:blocked': (e) => e.kind === 'membership' && e.status === 'blocked',
  'membership:allowed': (e) => e.kind === 'membership' && e.status === 'allowed',
  system: (e) => e.kind === 'system',
};

/** Every permitted filter query. */
export const FILTER_QUERIES = Object.keys(FILTERS) as FilterQuery[];

/**
 * A predicate for one or more filter queries (any of them matches). Checked at run time too,
 * for queries built from strings the compiler could not see.
 * @throws Error listing the permitted values when a query is unknown.
 */
export function matchFilter<Q extends FilterQuery>(query: MaybeArray<Q>): (ctx: AnyContext) => boolean {
  const queries = Array.isArray(query) ? query : [query];
  if (queries.length === 0) throw new Error('Empty filter query: pass at least one of ' + FILTER_QUERIES.join(', '));
  const predicates = queries.map((q) => {
    if (!Object.hasOwn(FILTERS, q)) {
      throw new Error(`Invalid filter query '${String(q)}'. Permitted values: ${FILTER_QUERIES.join(', ')}`);
    }
    return FILTERS[q];
  });
  return (ctx) => predicates.some((p) => p(ctx.event));
}

/** A failed handler, with the context it failed in. `error` is the original throw. */
export class BotError<C extends AnyContext = AnyContext> extends Error {
  override readonly name = 'BotError';
  /** Ids only (no personal data), safe to log. */
  readonly info: {
    messageId: number;
    bot: string;
    platform: string;
    conversationId: number;
    personId: number;
    eventKind: InboundEvent['kind'];
  };
  readonly #ctx: C;

  constructor(
    readonly error: unknown,
    ctx: C,
  ) {
    const info = {
      messageId: ctx.messageId,
      bot: ctx.conversation.bot,
      platform: ctx.conversation.platform,
      conversationId: ctx.conversation.id,
      personId: ctx.person.id,
      eventKind: ctx.event.kind,
    };
    const why = error instanceof Error ? error.message : String(error);
    super(`Handler failed on ${info.eventKind} message ${info.messageId} in conversation ${info.conversationId}: ${why}`, {
      cause: error,
    });
    this.info = info;
    this.#ctx = ctx;
  }

  /** The context of the failed turn (a getter, so loggers that copy fields do not dump it). */
  get ctx(): C {
    return this.#ctx;
  }
}

const pass: MiddlewareFn<unknown> = (_ctx, next) => next();

function flatten<C>(mw: Middleware<C>): MiddlewareFn<C> {
  // Objects are asked for their middleware on every call, so a composer can grow after use().
  return typeof mw === 'function' ? mw : (ctx, next) => mw.middleware()(ctx, next);
}

function concat<C>(first: MiddlewareFn<C>, andThen: MiddlewareFn<C>): MiddlewareFn<C> {
  return async (ctx, next) => {
    let called = false;
    await first(ctx, async () => {
      if (called) throw new Error('next() called multiple times');
      called = true;
      await andThen(ctx, next);
    });
  };
}

function toRegExpTest(trigger: string | RegExp, compare: (text: string, t: string) => string | undefined) {
  return (text: string): string | RegExpMatchArray | undefined => {
    if (typeof trigger === 'string') return compare(text, trigger);
    trigger.lastIndex = 0; // a /g or /y RegExp keeps state between calls
    return trigger.exec(text) ?? undefined;
  };
}

function triggers(
  trigger: MaybeArray<string | RegExp>,
  compare: (text: string, t: string) => string | undefined,
): (text: string) => string | RegExpMatchArray | undefined {
  const tests = (Array.isArray(trigger) ? trigger : [trigger]).map((t) => toRegExpTest(t, compare));
  return (text) => {
    for (const test of tests) {
      const m = test(text);
      if (m !== undefined) return m;
    }
    return undefined;
  };
}

/** Parses `/name@bot args` into its lower-cased name and arguments. */
export function parseCommand(text: string): { name: string; args: string } | undefined {
  const m = /^\/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/.exec(text.trim());
  return m ? { name: m[1].toLowerCase(), args: (m[2] ?? '').trim() } : undefined;
}

export class Composer<C extends AnyContext> implements MiddlewareObj<C> {
  #handler: MiddlewareFn<C>;

  constructor(...middleware: Middleware<C>[]) {
    this.#handler = middleware.length === 0 ? pass : middleware.map(flatten).reduce(concat);
  }

  /** The whole chain as one middleware. */
  middleware(): MiddlewareFn<C> {
    return this.#handler;
  }

  /** Appends middleware; returns a composer for adding more at that position. */
  use(...middleware: Middleware<C>[]): Composer<C> {
    const composer = new Composer(...middleware);
    this.#handler = concat(this.#handler, flatten(composer));
    return composer;
  }

  /**
   * Runs `middleware` for events matching the query (or any of several), with `ctx.event`
   * narrowed: `on('message:text', ctx => ctx.event.text)`. Queries: see `FILTER_QUERIES`.
   */
  on<Q extends FilterQuery>(query: MaybeArray<Q>, ...middleware: Middleware<Filtered<C, Q>>[]): Composer<Filtered<C, Q>> {
    return this.filter(matchFilter(query) as unknown as (ctx: C) => ctx is Filtered<C, Q>, ...middleware);
  }

  /** Runs for `/name` (or `/name@bot`) text messages; `ctx.match` holds the arguments. */
  command(name: MaybeArray<string>, ...middleware: Middleware<CommandContext<C>>[]): Composer<CommandContext<C>> {
    const names = (Array.isArray(name) ? name : [name]).map((n) => n.replace(/^\//, '').toLowerCase());
    for (const n of names) if (!/^[a-z0-9_]{1,32}$/.test(n)) throw new Error(`Invalid command name '${n}'`);
    return this.filter((ctx): ctx is CommandContext<C> => {
      if (ctx.event.kind !== 'message' || !ctx.event.text) return false;
      const cmd = parseCommand(ctx.event.text);
      if (!cmd || !names.includes(cmd.name)) return false;
      ctx.match = cmd.args;
      return true;
    }, ...middleware);
  }

  /**
   * Runs for text messages matching a trigger: a string matches the whole (trimmed) text,
   * ignoring case; a RegExp matches as `exec` does. `ctx.match` is the text or the match array.
   */
  hears<T extends string | RegExp>(trigger: MaybeArray<T>, ...middleware: Middleware<HearsContext<C, T>>[]): Composer<HearsContext<C, T>> {
    const test = triggers(trigger, (text, t) => (text.trim().toLowerCase() === t.trim().toLowerCase() ? text.trim() : undefined));
    return this.filter((ctx): ctx is HearsContext<C, T> => {
      if (ctx.event.kind !== 'message' || !ctx.event.text) return false;
      const m = test(ctx.event.text);
      if (m === undefined) return false;
      ctx.match = m;
      return true;
    }, ...middleware);
  }

  /**
   * Runs for button presses. A string id matches the payload `id` and every `id:data`, with
   * `ctx.match` = the data ('' for the bare id); a RegExp matches the payload, with the match array.
   */
  action<T extends string | RegExp>(trigger: MaybeArray<T>, ...middleware: Middleware<ActionContext<C, T>>[]): Composer<ActionContext<C, T>> {
    const test = triggers(trigger, (p, id) => (p === id ? '' : p.startsWith(`${id}:`) ? p.slice(id.length + 1) : undefined));
    return this.filter((ctx): ctx is ActionContext<C, T> => {
      if (ctx.event.kind !== 'action') return false;
      const m = test(ctx.event.payload);
      if (m === undefined) return false;
      ctx.match = m;
      return true;
    }, ...middleware);
  }

  /**
   * Runs when the person opens the bot: a start event, or `/start` typed as text on a platform
   * that passes it through. `ctx.match` is the deep-link payload, or '' when there is none.
   */
  start(...middleware: Middleware<StartContext<C>>[]): Composer<StartContext<C>> {
    return this.filter((ctx): ctx is StartContext<C> => {
      const e = ctx.event;
      if (e.kind === 'start') {
        ctx.match = e.payload ?? '';
        return true;
      }
      const cmd = e.kind === 'message' && e.text ? parseCommand(e.text) : undefined;
      if (cmd?.name !== 'start') return false;
      ctx.match = cmd.args;
      return true;
    }, ...middleware);
  }

  /** Runs for system events by name (exact string) or RegExp; `ctx.match` is the name or match. */
  system<T extends string | RegExp>(trigger: MaybeArray<T>, ...middleware: Middleware<SystemContext<C, T>>[]): Composer<SystemContext<C, T>> {
    const test = triggers(trigger, (name, t) => (name === t ? name : undefined));
    return this.filter((ctx): ctx is SystemContext<C, T> => {
      if (ctx.event.kind !== 'system') return false;
      const m = test(ctx.event.event);
      if (m === undefined) return false;
      ctx.match = m;
      return true;
    }, ...middleware);
  }

  /** Runs `middleware` when `predicate` holds (a type guard narrows the context), else skips it. */
  filter<D extends C>(predicate: (ctx: C) => ctx is D, ...middleware: Middleware<D>[]): Composer<D>;
  filter(predicate: (ctx: C) => MaybePromise<boolean>, ...middleware: Middleware<C>[]): Composer<C>;
  filter(predicate: (ctx: C) => MaybePromise<boolean>, ...middleware: Middleware<C>[]): Composer<C> {
    const composer = new Composer(...middleware);
    this.branch(predicate, composer, pass);
    return composer;
  }

  /** The opposite of `filter`: runs `middleware` when `predicate` does not hold. */
  drop(predicate: (ctx: C) => MaybePromise<boolean>, ...middleware: Middleware<C>[]): Composer<C> {
    return this.filter(async (ctx) => !(await predicate(ctx)), ...middleware);
  }

  /** Runs `whenTrue` or `whenFalse` depending on `predicate`; both continue with `next`. */
  branch(predicate: (ctx: C) => MaybePromise<boolean>, whenTrue: Middleware<C>, whenFalse: Middleware<C>): Composer<C> {
    const yes = flatten(whenTrue);
    const no = flatten(whenFalse);
    return this.use(async (ctx, next) => ((await predicate(ctx)) ? yes(ctx, next) : no(ctx, next)));
  }

  /**
   * Catches errors thrown by `middleware` (and whatever is later added to the returned
   * composer) and hands them to `handler`. Calling `next` — from the protected middleware or from
   * the handler — continues after the boundary, outside it: later errors are not caught here.
   */
  errorBoundary(handler: (error: BotError<C>, next: NextFunction) => unknown, ...middleware: Middleware<C>[]): Composer<C> {
    const composer = new Composer(...middleware);
    const bound = flatten(composer);
    this.use(async (ctx, next) => {
      let nextCalled = false;
      const cont = () => ((nextCalled = true), Promise.resolve());
      try {
        await bound(ctx, cont);
      } catch (err: unknown) {
        nextCalled = false;
        await handler(err instanceof BotError ? (err as BotError<C>) : new BotError(err, ctx), cont);
      }
      if (nextCalled) await next();
    });
    return composer;
  }
}
