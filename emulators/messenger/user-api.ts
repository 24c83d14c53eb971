/**
 * The user-side API under `/_emulator/...`: tests (or a person with curl) act as people — write
 * text, send an image or file, tap Get Started, press a quick reply or a template button, share
 * their phone, block the page, move their last message back in time — and read what the bot
 * sent, the Send API calls and the webhook deliveries.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { GraphError, newMid } from './limits.ts';
import type { WebhookPusher } from './pusher.ts';
import type { EmulatedUser, EmulatorState, ShownButton } from './state.ts';

/** What a person can do; `batch` takes several of these to push in one POST. */
export type UserAction =
  | { type: 'text'; psid: string; text: string }
  | { type: 'image'; psid: string; base64?: string; url?: string; mime?: string; name?: string }
  | { type: 'file'; psid: string; base64?: string; url?: string; mime?: string; name?: string }
  | { type: 'start'; psid: string; ref?: string }
  | { type: 'press'; psid: string; label: string }
  | { type: 'share_phone'; psid: string }
  | { type: 'referral'; psid: string; ref: string };

export class UserActionError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** A messaging event for the webhook, or a link the person opened (no event). */
type Built = { event: Record<string, unknown>; mid?: string } | { opened: string };

function latestPageMessage(user: EmulatedUser) {
  const last = user.thread[user.thread.length - 1];
  return last?.from === 'page' ? user.received.find((m) => m.mid === last.mid) : undefined;
}

/** Quick replies only while their message is the thread's latest; template buttons always. */
function findButton(user: EmulatedUser, label: string): ShownButton {
  const quick = latestPageMessage(user)?.quickReplies?.find((q) => q.title === label);
  if (quick) return quick;
  for (let i = user.received.length - 1; i >= 0; i--) {
    const b = user.received[i].buttons?.find((x) => x.title === label);
    if (b) return b;
  }
  throw new UserActionError(409, `no button "${label}" is shown to ${user.psid}`);
}

/** Builds the webhook event of one action and updates the person's thread and window. */
export function buildAction(state: EmulatorState, action: UserAction): Built {
  if (!action || typeof action.psid !== 'string' || action.psid === '') throw new UserActionError(400, 'psid is required');
  const user = state.user(action.psid);
  if (user.blocked) {
    throw new UserActionError(409, `${user.psid} blocked the page; unblock before writing to it`);
  }
  const now = Date.now();
  const mid = newMid();
  let body: Record<string, unknown>;

  switch (action.type) {
    case 'text':
      if (typeof action.text !== 'string' || action.text === '') throw new UserActionError(400, 'text is required');
      body = { message: { mid, text: action.text } };
      break;
    case 'image':
    case 'file': {
      let url = action.url;
      if (action.base64 !== undefined) {
        const mime = action.mime ?? (action.type === 'image' ? 'image/png' : 'application/octet-stream');
        url = state.storeFile(Buffer.from(action.base64, 'base64'), mime, action.name ?? (action.type === 'image' ? 'image.png' : 'file.bin'));
      }
      if (!url) throw new UserActionError(400, 'base64 or url is required');
      body = { message: { mid, attachments: [{ type: action.type, payload: { url } }] } };
      break;
    }
    case 'start': {
      const referral = action.ref ? { referral: { ref: action.ref, source: 'SHORTLINK', type: 'OPEN_THREAD' } } : {};
      body = { postback: { mid, title: 'Get Started', payload: state.getStartedPayload, ...referral } };
      break;
    }
    case 'referral':
      body = { referral: { ref: action.ref, source: 'SHORTLINK', type: 'OPEN_THREAD' } };
      break;
    case 'share_phone': {
      if (!latestPageMessage(user)?.quickReplies?.some((q) => q.kind === 'user_phone_number')) {
        throw new UserActionError(409, `no phone number quick reply is shown to ${user.psid}`);
      }
      body = { message: { mid, text: user.phone, quick_reply: { payload: user.phone } } };
      break;
    }
    case 'press': {
      const b = findButton(user, action.label);
      if (b.kind === 'web_url') return { opened: b.url ?? '' };
      if (b.kind === 'postback') body = { postback: { mid, title: b.title, payload: b.payload } };
      else if (b.kind === 'user_phone_number') body = { message: { mid, text: user.phone, quick_reply: { payload: user.phone } } };
      else if (b.kind === 'user_email') body = { message: { mid, text: user.email, quick_reply: { payload: user.email } } };
      else body = { message: { mid, text: b.title, quick_reply: { payload: b.payload } } };
      break;
    }
    default:
      throw new UserActionError(400, `unknown action type ${JSON.stringify((action as { type?: unknown }).type)}`);
  }

  user.lastUserMessageAt = now;
  if (action.type !== 'referral') user.thread.push({ from: 'user', mid, at: now });
  const event = { sender: { id: user.psid }, recipient: { id: state.config.pageId }, timestamp: now, ...body };
  return { event, ...(action.type !== 'referral' ? { mid } : {}) };
}

export function registerUserApi(app: FastifyInstance, state: EmulatorState, pusher: WebhookPusher): void {
  const fail = (reply: FastifyReply, err: unknown) => {
    const status = err instanceof UserActionError ? err.status : 400;
    return reply.code(status).send({ error: (err as Error).message });
  };

  const act = async (action: UserAction, reply: FastifyReply) => {
    try {
      const built = buildAction(state, action);
      if ('opened' in built) return { opened: built.opened, delivered: false, status: null };
      const result = await pusher.push([built.event]);
      return { mid: built.mid, ...result };
    } catch (err: unknown) {
      return fail(reply, err);
    }
  };

  app.get('/_emulator/info', async () => ({
    url: state.baseUrl,
    apiRoot: `${state.baseUrl}/${state.config.graphVersion}`,
    pageId: state.config.pageId,
    appId: state.config.appId,
    appSecret: state.config.appSecret,
    verifyToken: state.config.verifyToken,
    accessToken: state.config.accessToken,
    graphVersion: state.config.graphVersion,
    webhookUrl: state.webhookUrl,
    getStartedPayload: state.getStartedPayload,
  }));

  app.post('/_emulator/webhook', async (req, reply) => {
    const { url } = (req.body ?? {}) as { url?: unknown };
    if (typeof url !== 'string' || !URL.canParse(url)) return reply.code(400).send({ error: 'url is required' });
    try {
      await pusher.verify(url);
      return { ok: true, url };
    } catch (err: unknown) {
      return reply.code(400).send({ error: (err as Error).message });
    }
  });

  type P = { Params: { psid: string } };
  const body = (req: { body: unknown }) => (req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {});

  app.post<P>('/_emulator/users/:psid', async (req) => {
    const b = body(req);
    const u = state.user(req.params.psid, { name: b.name as string, phone: b.phone as string, email: b.email as string });
    return { psid: u.psid, name: u.name, phone: u.phone, email: u.email };
  });
  app.get<P>('/_emulator/users/:psid', async (req, reply) => {
    const u = state.users.get(req.params.psid);
    return u ?? reply.code(404).send({ error: 'no such person' });
  });
  app.get<P>('/_emulator/users/:psid/messages', async (req) => state.sentTo(req.params.psid));

  app.post<P>('/_emulator/users/:psid/text', (req, reply) => act({ type: 'text', psid: req.params.psid, text: body(req).text as string }, reply));
  app.post<P>('/_emulator/users/:psid/image', (req, reply) => act({ ...body(req), type: 'image', psid: req.params.psid }, reply));
  app.post<P>('/_emulator/users/:psid/file', (req, reply) => act({ ...body(req), type: 'file', psid: req.params.psid }, reply));
  app.post<P>('/_emulator/users/:psid/start', (req, reply) => act({ type: 'start', psid: req.params.psid, ref: body(req).ref as string | undefined }, reply));
  app.post<P>('/_emulator/users/:psid/referral', (req, reply) => act({ type: 'referral', psid: req.params.psid, ref: body(req).ref as string }, reply));
  app.post<P>('/_emulator/users/:psid/press', (req, reply) => act({ type: 'press', psid: req.params.psid, label: body(req).label as string }, reply));
  app.post<P>('/_emulator/users/:psid/share-phone', (req, reply) => act({ type: 'share_phone', psid: req.params.psid }, reply));

  /**
   * Blocks the page. Meta tells a page nothing when that happens: it learns from the next send
   * (551). With `{lastWords}` the person first writes that text and blocks right after it was
   * sent, so the bot's reply to it is the send that finds out.
   */
  app.post<P>('/_emulator/users/:psid/block', async (req, reply) => {
    const lastWords = body(req).lastWords;
    const user = state.user(req.params.psid);
    if (typeof lastWords !== 'string' || lastWords === '' || user.blocked) {
      user.blocked = true;
      return { ok: true };
    }
    try {
      const built = buildAction(state, { type: 'text', psid: user.psid, text: lastWords });
      user.blocked = true;
      const result = 'event' in built ? await pusher.push([built.event]) : undefined;
      return { ok: true, ...('mid' in built ? { mid: built.mid } : {}), ...result };
    } catch (err: unknown) {
      return fail(reply, err);
    }
  });
  app.post<P>('/_emulator/users/:psid/unblock', async (req) => {
    state.user(req.params.psid).blocked = false;
    return { ok: true };
  });
  /** Moves the person's last message back: `{agoMs}` before now, or `{at}` (ms), or `{at: null}` for never. */
  app.post<P>('/_emulator/users/:psid/last-message', async (req, reply) => {
    const b = body(req);
    const user = state.user(req.params.psid);
    if (typeof b.agoMs === 'number') user.lastUserMessageAt = Date.now() - b.agoMs;
    else if (typeof b.at === 'number' || b.at === null) user.lastUserMessageAt = b.at;
    else return reply.code(400).send({ error: 'agoMs or at is required' });
    return { lastUserMessageAt: user.lastUserMessageAt };
  });

  /** Several actions in one signed POST: `{actions: UserAction[], perEntry?: number}`. */
  app.post('/_emulator/batch', async (req, reply) => {
    const b = body(req);
    if (!Array.isArray(b.actions) || b.actions.length === 0) return reply.code(400).send({ error: 'actions must be a non-empty array' });
    try {
      const built = (b.actions as UserAction[]).map((a) => buildAction(state, a));
      const events = built.flatMap((x) => ('event' in x ? [x.event] : []));
      const result = await pusher.push(events, typeof b.perEntry === 'number' ? b.perEntry : 1);
      return { mids: built.map((x) => ('mid' in x ? x.mid : undefined)), ...result };
    } catch (err: unknown) {
      return fail(reply, err);
    }
  });

  app.get('/_emulator/calls', async () => state.calls);
  app.delete('/_emulator/calls', async () => {
    state.calls.length = 0;
    return { ok: true };
  });
  app.get('/_emulator/deliveries', async () => state.deliveries);
  app.post('/_emulator/flush', async () => {
    await pusher.idle();
    return { ok: true };
  });

  /**
   * Makes Send API calls fail with this Graph error: `{code, subcode?, message?, status?,
   * times?, after?}` — `after` calls pass first, then `times` calls fail.
   */
  app.post('/_emulator/fail-next', async (req, reply) => {
    const b = body(req);
    if (typeof b.code !== 'number') return reply.code(400).send({ error: 'code is required' });
    const times = typeof b.times === 'number' ? b.times : 1;
    const status = typeof b.status === 'number' ? b.status : b.code === 1 || b.code === 2 ? 500 : 400;
    const after = typeof b.after === 'number' ? b.after : 0;
    for (let i = 0; i < times; i++) {
      const error = new GraphError(status, b.code, typeof b.message === 'string' ? b.message : `(#${b.code}) injected failure`, {
        subcode: typeof b.subcode === 'number' ? b.subcode : undefined,
      });
      state.failures.push({ after: i === 0 ? after : 0, error });
    }
    return { queued: state.failures.length };
  });

  app.patch('/_emulator/config', async (req) => {
    const b = body(req);
    if (typeof b.maxRps === 'number' && b.maxRps > 0) state.config.maxRps = b.maxRps;
    if (typeof b.echoes === 'boolean') state.config.echoes = b.echoes;
    if (Array.isArray(b.retryDelaysMs)) state.config.retryDelaysMs = b.retryDelaysMs.filter((n): n is number => typeof n === 'number');
    return { maxRps: state.config.maxRps, echoes: state.config.echoes, retryDelaysMs: state.config.retryDelaysMs };
  });
}
