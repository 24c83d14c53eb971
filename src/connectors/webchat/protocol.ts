/**
 * The web chat's frame protocol: JSON text frames over one WebSocket (`GET /webchat/ws`).
 * Every frame the browser may send is a strict zod schema here, so an unknown type or an
 * unknown field is rejected before anything is stored. The frames the server sends are typed
 * here too (and documented in docs/webchat.md); the browser client in src/web/public follows them.
 */
import { z } from 'zod';

/** Current protocol version, sent in `welcome`. Bump when a frame changes incompatibly. */
export const PROTOCOL_VERSION = 1;

/** Secret visitor token: random, URL-safe, kept by the browser in localStorage. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{32,128}$/;
/** Client frame id (the dedup key of what it carries): any URL-safe string of 8–64 characters. */
export const FRAME_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
/** Platform id of one rendered part of an outbound message: `web-<messageId>-<part>`. */
export const PART_ID_PATTERN = /^web-\d{1,15}-\d{1,4}$/;

const frameId = z.string().regex(FRAME_ID_PATTERN, 'id must be 8–64 characters of A–Z, a–z, 0–9, _ or -');

/** First frame after connecting: the token when the browser has one, and its language. */
export const helloFrame = z.strictObject({
  type: z.literal('hello'),
  token: z.string().regex(TOKEN_PATTERN, 'token must be 32–128 URL-safe characters').optional(),
  language: z.string().max(35).optional(),
  /** Protocol version the client speaks; informative. */
  v: z.number().int().optional(),
});

/** The person opened the chat (or a deep link): becomes a StartEvent. */
export const startFrame = z.strictObject({
  type: z.literal('start'),
  id: frameId,
  payload: z.string().max(512).optional(),
});

/** Typed text. Its length limit is the connector's `maxTextLength`, checked after parsing. */
export const textFrame = z.strictObject({
  type: z.literal('text'),
  id: frameId,
  text: z.string(),
});

/** A button press: the payload the bot put on the button, and the part that showed it. */
export const actionFrame = z.strictObject({
  type: z.literal('action'),
  id: frameId,
  payload: z.string().min(1).max(1024),
  messageId: z.string().regex(PART_ID_PATTERN).optional(),
});

/** An image uploaded through `POST /webchat/upload` (its returned url), with an optional caption. */
export const imageFrame = z.strictObject({
  type: z.literal('image'),
  id: frameId,
  url: z.string().max(512),
  text: z.string().optional(),
});

/** The browser's position (navigator.geolocation), sent after a location request button. */
export const locationFrame = z.strictObject({
  type: z.literal('location'),
  id: frameId,
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
});

/** A phone number the person typed into the contact form. The web chat cannot vouch for it. */
export const contactFrame = z.strictObject({
  type: z.literal('contact'),
  id: frameId,
  phone: z.string().regex(/^\+?[0-9 ()-]{5,32}$/, 'phone must be digits, spaces, (), - and an optional leading +'),
  firstName: z.string().max(128).optional(),
  lastName: z.string().max(128).optional(),
});

/**
 * The person ends the chat and the page forgets the token ("forget me on this device"): stored
 * as a MembershipEvent `blocked`, so the runtime marks the visitor unreachable; then every tab
 * of the visitor gets `left` and is closed.
 */
export const leaveFrame = z.strictObject({ type: z.literal('leave'), id: frameId });

/** Keep-alive from the client; answered with `pong`. Nothing is stored. */
export const pingFrame = z.strictObject({ type: z.literal('ping') });

export const clientFrame = z.discriminatedUnion('type', [
  helloFrame,
  startFrame,
  textFrame,
  actionFrame,
  imageFrame,
  locationFrame,
  contactFrame,
  leaveFrame,
  pingFrame,
]);

export type HelloFrame = z.infer<typeof helloFrame>;
export type ClientFrame = z.infer<typeof clientFrame>;
/** A client frame that carries something the person did (stored, then acked). */
export type EventFrame = Exclude<ClientFrame, HelloFrame | z.infer<typeof pingFrame>>;
export const CLIENT_FRAME_TYPES = clientFrame.options.map((o) => o.shape.type.value);

// ---------------------------------------------------------------------------------------------
// Server → browser

/** A button as the browser shows it. `url` buttons open a link; the others send a frame. */
export type ButtonView =
  | { type: 'action'; label: string; payload: string }
  | { type: 'url'; label: string; url: string }
  | { type: 'contact'; label: string }
  | { type: 'location'; label: string };

/** One rendered part of an outbound message. `html` is sanitised: only `<b>`, `<i>`, `<a href>`. */
export interface PartView {
  /** `web-<messageId>-<part>`: the platform message id the runtime records. */
  id: string;
  html?: string;
  buttons?: ButtonView[][];
  keyboard?: 'inline' | 'reply';
  removeKeyboard?: boolean;
  image?: { url: string; captionHtml?: string };
  file?: { url: string; name: string; captionHtml?: string };
}

/** What the person did, as their own bubble shows it. */
export interface InboundView {
  text?: string;
  images?: string[];
  /** Label of the button pressed (or its payload when the label is no longer known). */
  action?: string;
  location?: { latitude: number; longitude: number };
  contact?: { phone: string };
}

export type HistoryEntry =
  | { dir: 'in'; id: string; at: number; view: InboundView }
  | { dir: 'out'; id: string; at: number; parts: PartView[] };

export interface Limits {
  /** Longest text frame, in characters (UTF-16 code units, as JavaScript counts). */
  maxTextLength: number;
  /** Largest accepted frame, in bytes. */
  maxFrameBytes: number;
  /** Largest image upload, in bytes. */
  maxUploadBytes: number;
}

/** Stable error codes of `error` frames; each is documented in docs/webchat.md. */
export const ERROR_CODES = [
  'bad-json',
  'bad-frame',
  'unknown-type',
  'too-large',
  'too-long',
  'empty',
  'hello-required',
  'already-hello',
  'unknown-action',
  'unknown-upload',
  'rate-limited',
  'unavailable',
  'too-many-errors',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export type ServerFrame =
  | {
      type: 'welcome';
      v: number;
      token: string;
      /** The public id of this visitor (the chat id); safe to show, useless to read history. */
      visitor: string;
      /** True when nothing of this visitor is stored yet: the page then sends `start`. */
      fresh: boolean;
      history: HistoryEntry[];
      limits: Limits;
    }
  | { type: 'ack'; id: string; duplicate: boolean }
  | { type: 'message'; id: string; at: number; parts: PartView[] }
  | { type: 'edit'; target: string; at: number; parts: PartView[] }
  | { type: 'echo'; id: string; at: number; view: InboundView }
  | { type: 'error'; id?: string; code: ErrorCode; message: string; retryAfterMs?: number }
  | { type: 'left' }
  | { type: 'pong' };

/** Human-readable summary of a zod error: `text: expected string`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}
