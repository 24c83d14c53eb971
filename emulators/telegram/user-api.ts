/**
 * The person's side of the emulator, over HTTP under `/_emulator/...` so that tests and a human
 * with curl use the same thing: act as a person, read what the bot sent, inspect the call log,
 * change the rate limits, and host media at a URL for sendPhoto-by-URL.
 */
import type { FastifyInstance } from 'fastify';
import type { InlineKeyboardButton, KeyboardButton, Message } from '@grammyjs/types';
import type { EmulatorLimits } from './limits.ts';
import { documentContent, ownContact, personSends, photoContent, press, setBlocked, textContent } from './person.ts';
import type { BotState, CallRecord, ChatState, StoredMessage, World } from './state.ts';

/** A bot message as the person sees it. */
export interface MessageView {
  message_id: number;
  date: number;
  /** Text (or caption) as displayed: markup parsed away, entities decoded. */
  text: string;
  /** Text or caption exactly as the bot sent it (HTML source when parse_mode was HTML). */
  source?: string;
  parse_mode?: string;
  entities?: Message['entities'];
  photo?: { file_id: string; width: number; height: number };
  document?: { file_id: string; file_name?: string; mime_type?: string };
  inline_keyboard?: Array<Array<{ text: string; callback_data?: string; url?: string }>>;
  keyboard?: Array<Array<{ text: string; request_contact?: boolean; request_location?: boolean }>>;
  remove_keyboard?: boolean;
  edited: boolean;
}

export interface CallbackView {
  id: string;
  data?: string;
  message_id?: number;
  answered: boolean;
  answer?: { text?: string; show_alert?: boolean; url?: string };
}

function view(stored: StoredMessage): MessageView {
  const m = stored.message as Message & { reply_markup?: { inline_keyboard: InlineKeyboardButton[][] } };
  const largest = m.photo?.[m.photo.length - 1];
  const markup = stored.markup;
  return {
    message_id: m.message_id,
    date: m.date,
    text: m.text ?? m.caption ?? '',
    ...(stored.source !== undefined ? { source: stored.source } : {}),
    ...(stored.parseMode ? { parse_mode: stored.parseMode } : {}),
    ...(m.entities ?? m.caption_entities ? { entities: m.entities ?? m.caption_entities } : {}),
    ...(largest ? { photo: { file_id: largest.file_id, width: largest.width, height: largest.height } } : {}),
    ...(m.document ? { document: { file_id: m.document.file_id, file_name: m.document.file_name, mime_type: m.document.mime_type } } : {}),
    ...(m.reply_markup?.inline_keyboard
      ? { inline_keyboard: m.reply_markup.inline_keyboard.map((r) => r.map((b) => ({ text: b.text, ...('callback_data' in b ? { callback_data: b.callback_data } : {}), ...('url' in b ? { url: b.url } : {}) }))) }
      : {}),
    ...(markup && 'keyboard' in markup
      ? { keyboard: markup.keyboard.map((r) => r.map((b: KeyboardButton) => (typeof b === 'string' ? { text: b } : { text: b.text, ...('request_contact' in b && b.request_contact ? { request_contact: true } : {}), ...('request_location' in b && b.request_location ? { request_location: true } : {}) }))) }
      : {}),
    ...(markup && 'remove_keyboard' in markup ? { remove_keyboard: true } : {}),
    edited: stored.edits > 0,
  };
}

type Body = Record<string, unknown>;
type UserReq = { Params: { id: string }; Querystring: { bot?: string }; Body: Body | undefined };

const bytesOf = (body: Body, field = 'base64'): Buffer => {
  const v = body[field];
  if (typeof v !== 'string' || v === '') throw new BadInput(`"${field}" (base64 bytes) is required`);
  return Buffer.from(v, 'base64');
};

/** A malformed user-API request (answered 400). */
export class BadInput extends Error {
  readonly statusCode = 400;
}

const num = (v: unknown, name: string): number => {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new BadInput(`"${name}" must be a number`);
  return n;
};

export function registerUserApi(app: FastifyInstance, world: World): void {
  const statics = new Map<string, { bytes: Buffer; type: string }>();

  const target = (req: { params: { id: string }; query: { bot?: string } }): { bot: BotState; chat: ChatState } => {
    const bot = world.bot(req.query.bot);
    if (!bot) throw Object.assign(new Error(`no emulated bot ${JSON.stringify(req.query.bot)}`), { statusCode: 404 });
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id <= 0) throw new BadInput('user id must be a positive integer');
    if (!world.users.has(id)) world.user(id);
    return { bot, chat: world.chat(bot, id) };
  };

  app.post<UserReq>('/_emulator/users/:id', async (req) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id <= 0) throw new BadInput('user id must be a positive integer');
    const b = req.body ?? {};
    const pick = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : undefined);
    return world.user(id, { first_name: pick('first_name'), last_name: pick('last_name'), username: pick('username'), language_code: pick('language_code'), phone: pick('phone') });
  });

  app.post<UserReq>('/_emulator/users/:id/text', async (req) => {
    const { bot, chat } = target(req);
    const text = req.body?.text;
    if (typeof text !== 'string' || text === '') throw new BadInput('"text" is required');
    return personSends(bot, chat, textContent(text));
  });

  app.post<UserReq>('/_emulator/users/:id/photo', async (req) => {
    const { bot, chat } = target(req);
    const body = req.body ?? {};
    return personSends(bot, chat, await photoContent(bot, bytesOf(body), typeof body.caption === 'string' ? body.caption : undefined));
  });

  app.post<UserReq>('/_emulator/users/:id/document', async (req) => {
    const { bot, chat } = target(req);
    const b = req.body ?? {};
    const name = typeof b.name === 'string' && b.name ? b.name : 'file.bin';
    const mime = typeof b.mime === 'string' && b.mime ? b.mime : 'application/octet-stream';
    return personSends(bot, chat, documentContent(bot, bytesOf(b), name, mime, typeof b.caption === 'string' ? b.caption : undefined));
  });

  app.post<UserReq>('/_emulator/users/:id/contact', async (req) => {
    const { bot, chat } = target(req);
    const b = req.body ?? {};
    if (b.own !== false && b.phone === undefined) return personSends(bot, chat, ownContact(chat));
    const phone = typeof b.phone === 'string' ? b.phone : chat.user.phone;
    const userId = b.own === false ? (typeof b.user_id === 'number' ? b.user_id : undefined) : chat.user.id;
    const first = typeof b.first_name === 'string' ? b.first_name : b.own === false ? 'Someone' : chat.user.first_name;
    return personSends(bot, chat, { contact: { phone_number: phone, first_name: first, ...(userId !== undefined ? { user_id: userId } : {}) } });
  });

  app.post<UserReq>('/_emulator/users/:id/location', async (req) => {
    const { bot, chat } = target(req);
    const b = req.body ?? {};
    return personSends(bot, chat, { location: { latitude: num(b.latitude, 'latitude'), longitude: num(b.longitude, 'longitude') } });
  });

  app.post<UserReq>('/_emulator/users/:id/press', async (req) => {
    const { bot, chat } = target(req);
    const b = req.body ?? {};
    const location = b.latitude !== undefined ? { latitude: num(b.latitude, 'latitude'), longitude: num(b.longitude, 'longitude') } : undefined;
    return press(bot, chat, {
      label: typeof b.label === 'string' ? b.label : undefined,
      data: typeof b.data === 'string' ? b.data : undefined,
      messageId: typeof b.message_id === 'number' ? b.message_id : undefined,
      location,
    });
  });

  app.post<UserReq>('/_emulator/users/:id/block', async (req) => {
    const { bot, chat } = target(req);
    return { changed: setBlocked(bot, chat, true) };
  });

  app.post<UserReq>('/_emulator/users/:id/unblock', async (req) => {
    const { bot, chat } = target(req);
    return { changed: setBlocked(bot, chat, false) };
  });

  app.get<UserReq>('/_emulator/users/:id/messages', async (req) => {
    const { chat } = target(req);
    return chat.messages.filter((m) => m.sentBy === 'bot').map(view);
  });

  app.get<UserReq>('/_emulator/users/:id/keyboard', async (req) => {
    const { chat } = target(req);
    return { keyboard: chat.keyboard?.keyboard.map((r) => r.map((b) => (typeof b === 'string' ? { text: b } : b))) ?? null };
  });

  app.get<UserReq>('/_emulator/users/:id/callbacks', async (req) => {
    const { bot, chat } = target(req);
    const views: CallbackView[] = [];
    for (const r of bot.callbacks.values()) {
      if (r.query.from.id !== chat.user.id) continue;
      views.push({ id: r.query.id, data: r.query.data, message_id: r.query.message?.message_id, answered: r.answered, ...(r.answer ? { answer: r.answer } : {}) });
    }
    return views;
  });

  app.get<{ Querystring: { method?: string; since?: string } }>('/_emulator/calls', async (req) => {
    const since = Number(req.query.since ?? 0);
    const method = req.query.method?.toLowerCase();
    return world.calls.filter((c: CallRecord) => c.seq > since && (!method || c.method.toLowerCase() === method));
  });

  app.delete('/_emulator/calls', async () => {
    world.calls.length = 0;
    return { ok: true };
  });

  app.get('/_emulator/bots', async () =>
    [...world.bots.values()].map((b) => ({
      id: b.user.id,
      username: b.user.username,
      token: b.token,
      webhook: b.webhook ? { url: b.webhook.url, last_error_message: b.webhook.lastErrorMessage ?? null } : null,
      pending_updates: b.updates.length,
    })),
  );

  app.get('/_emulator/limits', async () => world.limits);
  app.put<{ Body: Partial<EmulatorLimits> }>('/_emulator/limits', async (req) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const partial: Partial<EmulatorLimits> = {};
    for (const key of ['overallPerSecond', 'overallBurst', 'perChatPerSecond', 'perChatBurst'] as const) {
      if (body[key] === undefined) continue;
      const n = Number(body[key]);
      if (!(n > 0)) throw new BadInput(`"${key}" must be a positive number`);
      partial[key] = n;
    }
    return world.setLimits(partial);
  });

  // Media a test wants the bot to send by URL (sendPhoto with an http URL): Telegram downloads
  // it, so does the emulator, from here.
  app.put<{ Params: { name: string } }>('/_emulator/static/:name', async (req) => {
    const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.from(String(req.body ?? ''));
    statics.set(req.params.name, { bytes, type: String(req.headers['content-type'] ?? 'application/octet-stream') });
    return { ok: true, size: bytes.length };
  });
  app.get<{ Params: { name: string } }>('/_emulator/static/:name', async (req, reply) => {
    const file = statics.get(req.params.name);
    if (!file) return reply.code(404).send({ error: 'not found' });
    return reply.type(file.type).send(file.bytes);
  });
}
