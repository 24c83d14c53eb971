/**
 * RenderPlan → Send API calls. Messenger has no markup, so text goes plain; buttons become a
 * button template (≤3 postback/link buttons, text ≤640) or quick replies (≤13, the phone quick
 * reply included) depending on what the message needs; images and files go as attachments by
 * URL or uploaded as multipart `filedata`. The 24-hour window decides the messaging type before
 * any call is made, and Graph errors become DeliveryErrors the gateway knows how to retry.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { DeliveryError, type Delivery } from '../connector.ts';
import { plainText, splitRichText } from '../../core/format.ts';
import type { OutgoingMedia } from '../../core/model.ts';
import type { RenderedPart } from '../../core/render.ts';
import { GraphApiError, GraphNetworkError, type UploadFile } from './api.ts';

export const TEXT_LIMIT = 2000;
export const TEMPLATE_TEXT_LIMIT = 640;
export const TEMPLATE_BUTTONS = 3;
export const QUICK_REPLIES = 13;
export const BUTTON_TITLE_LIMIT = 20;
const HOUR = 3_600_000;
export const WINDOW_MS = 24 * HOUR;
export const HUMAN_AGENT_WINDOW_MS = 7 * 24 * HOUR;

/** One Send API call: the `message` object, and the media to upload when it has no URL. */
export interface MessengerCall {
  message: Record<string, unknown>;
  upload?: OutgoingMedia;
}

/** `messaging_type` (and `tag`) of every call of one delivery. */
export interface Messaging {
  messaging_type: 'RESPONSE' | 'MESSAGE_TAG';
  tag?: string;
}

/**
 * Decides how a message may be sent given when the person last wrote: within 24 h as a
 * RESPONSE; later only with the message's tag (HUMAN_AGENT for at most 7 days). Otherwise it
 * throws a permanent DeliveryError `window`, so no doomed API call is made.
 * `lastInboundAt === undefined` means the runtime does not know: send, and let Graph decide.
 */
export function messagingFor(delivery: Pick<Delivery, 'lastInboundAt' | 'message'>, now: number): Messaging {
  const tag = delivery.message.tag;
  if (delivery.lastInboundAt === undefined) return tag ? { messaging_type: 'MESSAGE_TAG', tag } : { messaging_type: 'RESPONSE' };
  const age = delivery.lastInboundAt === null ? Infinity : now - delivery.lastInboundAt;
  if (age < WINDOW_MS) return { messaging_type: 'RESPONSE' };
  const since = age === Infinity ? 'the person never wrote to the page' : `the person last wrote ${Math.floor(age / HOUR)} h ago`;
  if (!tag) {
    throw windowError(`outside Messenger's 24-hour window (${since}) and the message has no tag`);
  }
  if (tag === 'HUMAN_AGENT' && age > HUMAN_AGENT_WINDOW_MS) {
    throw windowError(`outside the 7-day HUMAN_AGENT window (${since})`);
  }
  return { messaging_type: 'MESSAGE_TAG', tag };
}

function windowError(message: string): DeliveryError {
  return new DeliveryError(message, { kind: 'permanent', platform: 'messenger', code: 'window' });
}

/** The calls that deliver one rendered part, in order; the last one carries its buttons. */
export function partCalls(part: RenderedPart): MessengerCall[] {
  const calls: MessengerCall[] = [];
  const media = part.image ?? part.file;
  let text = part.text ? plainText(part.text) : undefined;
  if (media) {
    const type = part.image ? 'image' : 'file';
    const payload = media.url ? { url: media.url, is_reusable: false } : { is_reusable: false };
    calls.push({ message: { attachment: { type, payload } }, ...(media.url ? {} : { upload: media }) });
    // Attachments carry no caption on Messenger: the caption follows as text.
    if (media.caption) text = joinText(plainText(media.caption), text);
  }

  const buttons = (part.buttons ?? []).flat();
  if (buttons.length === 0) {
    if (text !== undefined) calls.push(...textCalls(text));
    return calls;
  }

  const templateFits =
    part.keyboard !== 'reply' &&
    buttons.length <= TEMPLATE_BUTTONS &&
    buttons.every((b) => b.type === 'action' || b.type === 'url') &&
    text !== undefined &&
    text.trim() !== '';
  if (templateFits) {
    const { head, tail } = splitForTemplate(text as string);
    if (head) calls.push(...textCalls(head));
    calls.push({
      message: {
        attachment: {
          type: 'template',
          payload: {
            template_type: 'button',
            text: tail,
            buttons: buttons.map((b) =>
              b.type === 'url'
                ? { type: 'web_url', url: b.url, title: title(b.label) }
                : { type: 'postback', title: title(b.label), payload: (b as { payload: string }).payload },
            ),
          },
        },
      },
    });
    return calls;
  }

  // Quick replies: actions and the phone request; links cannot be quick replies, so they join
  // the text. Location requests never reach here (the capabilities say Messenger has none).
  const quickReplies: Record<string, unknown>[] = [];
  const links: string[] = [];
  for (const b of buttons) {
    if (b.type === 'action') quickReplies.push({ content_type: 'text', title: title(b.label), payload: b.payload });
    else if (b.type === 'contact') quickReplies.push({ content_type: 'user_phone_number' });
    else if (b.type === 'url') links.push(`${b.label}: ${b.url}`);
    else links.push(b.label);
  }
  if (links.length) text = joinText(text, links.join('\n'));
  if (text !== undefined && text.trim() !== '') calls.push(...textCalls(text));
  else if (calls.length === 0) calls.push(...textCalls(text ?? ' '));
  if (quickReplies.length) calls[calls.length - 1].message.quick_replies = quickReplies;
  return calls;
}

/** Text over the 2000-character limit goes as several messages, split at natural breaks. */
function textCalls(text: string): MessengerCall[] {
  const chunks = text.length <= TEXT_LIMIT ? [text] : splitRichText(text, TEXT_LIMIT).map(plainText);
  return chunks.filter((c) => c !== '').map((c) => ({ message: { text: c } }));
}

/**
 * The template takes the end of the text (≤640 characters) and what comes before is sent as
 * text first. The end is whole paragraphs when they fit, so the question sits with its buttons.
 */
function splitForTemplate(text: string): { head: string; tail: string } {
  if (text.length <= TEMPLATE_TEXT_LIMIT) return { head: '', tail: text };
  let at = text.length;
  for (let i = text.lastIndexOf('\n\n'); i > 0 && text.length - i - 2 <= TEMPLATE_TEXT_LIMIT; i = text.lastIndexOf('\n\n', i - 1)) {
    at = i;
  }
  if (at < text.length) {
    const tail = text.slice(at).trim();
    if (tail) return { head: text.slice(0, at).trimEnd(), tail };
  }
  const chunks = splitRichText(text, TEMPLATE_TEXT_LIMIT).map(plainText);
  const tail = chunks[chunks.length - 1];
  return { head: text.slice(0, text.lastIndexOf(tail)).trimEnd(), tail };
}

function joinText(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || a.trim() === '') return b;
  if (b === undefined || b.trim() === '') return a;
  return `${a}\n\n${b}`;
}

/** Button titles are capped at 20 characters; the renderer keeps to that, this is a backstop. */
function title(label: string): string {
  return label.length <= BUTTON_TITLE_LIMIT ? label : `${label.slice(0, BUTTON_TITLE_LIMIT - 1)}…`;
}

const MIME: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.zip': 'application/zip',
};

/** Reads a local file or decodes base64 for a multipart upload. A missing file is permanent. */
export async function loadUpload(media: OutgoingMedia, kind: 'image' | 'file'): Promise<UploadFile> {
  let bytes: Buffer;
  try {
    if (media.path) bytes = await readFile(media.path);
    else if (media.base64 !== undefined) bytes = Buffer.from(media.base64, 'base64');
    else throw new Error('media has neither url, path nor base64');
  } catch (err: unknown) {
    throw new DeliveryError(`cannot read the ${kind} to upload: ${(err as Error).message}`, {
      kind: 'permanent',
      platform: 'messenger',
      code: 'media',
      cause: err,
    });
  }
  const name = media.name ?? (media.path ? basename(media.path) : kind === 'image' ? 'image.png' : 'file.bin');
  const mime = media.mime ?? MIME[extname(name).toLowerCase()] ?? (kind === 'image' ? 'image/png' : 'application/octet-stream');
  return { bytes, name, mime };
}

/** Graph's rate errors: 4 (app request limit), 17 (user limit), 32 (page limit), 613 (call rate). */
const RATE_CODES = new Set([4, 17, 32, 613]);

/**
 * Maps a failure of a Graph call to the DeliveryError that decides the gateway's retry.
 * `deliveredIds` are the parts already delivered in this attempt.
 */
export function toDeliveryError(err: unknown, deliveredIds: string[]): DeliveryError {
  const platform = 'messenger';
  if (err instanceof DeliveryError) {
    if (!deliveredIds.length) return err;
    return new DeliveryError(err.message, {
      kind: err.kind,
      platform: err.platform,
      code: err.code,
      retryAfterMs: err.retryAfterMs,
      unreachable: err.unreachable,
      deliveredIds,
      cause: err.cause,
    });
  }
  if (err instanceof GraphNetworkError) {
    return new DeliveryError(`Messenger unreachable: ${err.code}`, { kind: 'transient', platform, code: err.code, deliveredIds, cause: err });
  }
  if (!(err instanceof GraphApiError)) {
    return new DeliveryError(`Messenger send failed: ${String((err as Error)?.message ?? err)}`, {
      kind: 'transient',
      platform,
      code: 'unknown',
      deliveredIds,
      cause: err,
    });
  }
  const { code, subcode, status } = err;
  const why = `${err.message} (code ${code}${subcode ? `/${subcode}` : ''})`;
  if (RATE_CODES.has(code) || status === 429) {
    const retryAfterMs = err.retryAfterMs ?? (code === 613 ? 1000 : 10_000);
    return new DeliveryError(`Messenger rate limit: ${why}`, { kind: 'rate-limited', platform, code, retryAfterMs, deliveredIds, cause: err });
  }
  if (code === 551 || subcode === 1545041 || (code === 100 && subcode === 2018001)) {
    return new DeliveryError(`the person cannot be reached on Messenger: ${why}`, {
      kind: 'permanent',
      platform,
      code,
      unreachable: true,
      deliveredIds,
      cause: err,
    });
  }
  if (code === 10 && subcode === 2018278) {
    return new DeliveryError(`outside Messenger's 24-hour window: ${why}`, { kind: 'permanent', platform, code: 'window', deliveredIds, cause: err });
  }
  if (code === 190) {
    return new DeliveryError(
      'Messenger rejected the page access token (code 190): set MESSENGER_PAGE_ACCESS_TOKEN to a valid, unexpired page access token',
      { kind: 'permanent', platform, code, deliveredIds, cause: err },
    );
  }
  if (code === 1 || code === 2 || code === 1200 || status >= 500 || status === 408) {
    return new DeliveryError(`Messenger temporary error: ${why}`, { kind: 'transient', platform, code, deliveredIds, cause: err });
  }
  return new DeliveryError(`Messenger refused the message: ${why}`, { kind: 'permanent', platform, code, deliveredIds, cause: err });
}
