/**
 * Messenger webhook body → InboundUpdate. A POST carries `{object:"page", entry:[...]}` where
 * both `entry` and each entry's `messaging` are arrays (Meta batches events), so one body may
 * yield several updates. Everything is read defensively: the body comes from the network and a
 * shape we do not know is skipped with a reason, never thrown on.
 */
import type { Attachment, InboundEvent, InboundUpdate, MessageEvent } from '../../core/model.ts';

export interface NormalizeOptions {
  bot: string;
  /** Postback payload of the Get Started button. */
  getStartedPayload: string;
}

export interface NormalizeResult {
  updates: InboundUpdate[];
  /** Why each skipped event was skipped (echoes, read receipts, unknown kinds), for the log. */
  skipped: string[];
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
/** PSIDs and page ids are numeric strings, but be lenient with numbers. */
const id = (v: unknown): string | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? String(v) : str(v);

/** Event keys Meta sends that carry nothing for a bot (receipts, reactions...): skipped quietly. */
const IGNORED_KINDS = ['delivery', 'read', 'reaction', 'optin', 'account_linking', 'policy_enforcement', 'pass_thread_control', 'take_thread_control', 'request_thread_control', 'app_roles', 'messaging_feedback', 'game_play', 'message_edit'];

/** Turns one webhook body into updates, in the order Meta listed them. */
export function normalizeWebhook(body: unknown, opts: NormalizeOptions): NormalizeResult {
  const out: NormalizeResult = { updates: [], skipped: [] };
  if (!isObj(body)) {
    out.skipped.push('body is not an object');
    return out;
  }
  if (body.object !== 'page') {
    out.skipped.push(`object is ${JSON.stringify(body.object)}, not "page"`);
    return out;
  }
  if (!Array.isArray(body.entry)) {
    out.skipped.push('entry is not an array');
    return out;
  }
  for (const entry of body.entry) {
    if (!isObj(entry)) {
      out.skipped.push('entry is not an object');
      continue;
    }
    if (!Array.isArray(entry.messaging)) {
      // `standby` (handover protocol) and `changes` (page feed) are not ours to answer.
      out.skipped.push(`entry without messaging (${Object.keys(entry).join(',')})`);
      continue;
    }
    for (const event of entry.messaging) {
      const result = normalizeEvent(event, opts);
      if (typeof result === 'string') out.skipped.push(result);
      else out.updates.push(result);
    }
  }
  return out;
}

/** One messaging event → an update, or the reason it is skipped. */
export function normalizeEvent(event: unknown, opts: NormalizeOptions): InboundUpdate | string {
  if (!isObj(event)) return 'messaging event is not an object';
  const sender = isObj(event.sender) ? id(event.sender.id) : undefined;
  if (!sender) return 'messaging event without sender.id';
  const base = { platform: 'messenger', bot: opts.bot, chatId: sender, sender: { platformUserId: sender }, raw: event };

  if (isObj(event.message)) {
    const m = event.message;
    // Echoes are the page's own messages coming back; answering them would loop.
    if (m.is_echo === true) return 'echo of a page message';
    const mid = str(m.mid);
    if (!mid) return 'message without mid';
    const parsed = messageEvent(m);
    if (!parsed) return `message ${mid} with no content we understand`;
    return { ...base, dedupKey: mid, platformMessageId: mid, event: parsed };
  }

  if (isObj(event.postback)) {
    const p = event.postback;
    const payload = typeof p.payload === 'string' ? p.payload : undefined;
    if (payload === undefined) return 'postback without payload';
    const mid = str(p.mid);
    // Old postbacks had no mid; sender + timestamp + payload is unique enough for those.
    const dedupKey = mid ?? `postback:${sender}:${String(event.timestamp)}:${payload}`;
    const ref = isObj(p.referral) ? str(p.referral.ref) : undefined;
    const ev: InboundEvent =
      payload === opts.getStartedPayload
        ? { kind: 'start', ...(ref ? { payload: ref } : {}) }
        : { kind: 'action', payload };
    return { ...base, dedupKey, ...(mid ? { platformMessageId: mid } : {}), event: ev };
  }

  if (isObj(event.referral)) {
    // An m.me/<page>?ref=... link opened by someone already in the thread: a start with a payload.
    const ref = str(event.referral.ref);
    const ts = event.timestamp;
    if (typeof ts !== 'number' && typeof ts !== 'string') return 'referral without timestamp';
    return { ...base, dedupKey: `referral:${sender}:${ts}`, event: { kind: 'start', ...(ref ? { payload: ref } : {}) } };
  }

  const kind = Object.keys(event).find((k) => !['sender', 'recipient', 'timestamp'].includes(k)) ?? 'empty';
  return IGNORED_KINDS.includes(kind) ? `${kind} event (nothing to answer)` : `unknown messaging event kind "${kind}"`;
}

/** A `message` object → a MessageEvent or an ActionEvent (quick reply), or null when empty. */
function messageEvent(m: Obj): InboundEvent | null {
  const text = typeof m.text === 'string' ? m.text : undefined;

  if (isObj(m.quick_reply) && typeof m.quick_reply.payload === 'string') {
    const payload = m.quick_reply.payload;
    // The user_phone_number quick reply comes back as a quick reply whose payload is the phone
    // Messenger took from the person's profile; their own, so `own: true`.
    if (isPhoneReply(payload, text)) return { kind: 'message', contact: { phone: payload, own: true } };
    // user_email likewise returns the address; it is a typed answer, not a button of ours.
    if (text !== undefined && payload === text && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(payload)) {
      return { kind: 'message', text };
    }
    return { kind: 'action', payload };
  }

  const ev: MessageEvent = { kind: 'message' };
  if (text !== undefined && text !== '') ev.text = text;
  if (isObj(m.reply_to) && str(m.reply_to.mid)) ev.replyTo = str(m.reply_to.mid);

  if (Array.isArray(m.attachments)) {
    for (const a of m.attachments) {
      if (!isObj(a)) continue;
      const payload = isObj(a.payload) ? a.payload : {};
      if (a.type === 'location' && isObj(payload.coordinates)) {
        // Deprecated by Meta but still seen from old clients.
        const { lat, long } = payload.coordinates;
        if (typeof lat === 'number' && typeof long === 'number') ev.location = { latitude: lat, longitude: long };
        continue;
      }
      const url = str(payload.url);
      if (!url) continue;
      const att: Attachment = { ref: url, url };
      const title = str(payload.title) ?? str(a.title) ?? str(payload.name);
      if (title) att.name = title;
      if (a.type === 'image') (ev.images ??= []).push(att);
      else if (a.type === 'file' || a.type === 'video' || a.type === 'audio') (ev.files ??= []).push(att);
      // `fallback` (shared links), `template` and others have nothing a bot can read.
    }
  }
  return ev.text !== undefined || ev.images || ev.files || ev.location ? ev : null;
}

/** True when a quick-reply payload is a phone number the person shared (digits match the text). */
export function isPhoneReply(payload: string, text: string | undefined): boolean {
  if (!/^\+?[\d\s().-]{7,32}$/.test(payload)) return false;
  const digits = payload.replace(/\D/g, '');
  if (digits.length < 7 || digits.length > 15) return false;
  return text === undefined || text.replace(/\D/g, '') === digits;
}
