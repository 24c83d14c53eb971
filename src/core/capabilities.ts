/**
 * What a connector can show. Core reads these flags to render an outgoing message within them;
 * it never asks which platform it is on.
 */
export interface ButtonLimits {
  perRow: number;
  rows: number;
  total: number;
  /** Longest action payload, in UTF-8 bytes, that the platform carries back. */
  payloadBytes: number;
  /** Longest label, in characters, before the platform rejects or truncates it. */
  labelLength: number;
}

export interface Capabilities {
  /** Longest text of one message, in characters. */
  textLimit: number;
  /** Longest caption of an image or file; 0 when captions are not supported. */
  captionLimit: number;
  /** `html`: bold, italic and links render; `none`: plain text only. */
  markup: 'html' | 'none';
  /** Buttons attached under a message, or null when the platform has none. */
  inline: ButtonLimits | null;
  /** A keyboard that replaces the person's own, or null when the platform has none. */
  replyKeyboard: ButtonLimits | null;
  urlButtons: boolean;
  contactRequest: boolean;
  locationRequest: boolean;
  edits: boolean;
  images: boolean;
  files: boolean;
  /** The platform deduplicates a resent message by a key we choose (VK random_id). */
  idempotentSend: boolean;
}

/** A generous capability set, as the web chat has. */
export const FULL_CAPABILITIES: Capabilities = {
  textLimit: 10_000,
  captionLimit: 10_000,
  markup: 'html',
  inline: { perRow: 8, rows: 20, total: 100, payloadBytes: 1024, labelLength: 200 },
  replyKeyboard: { perRow: 8, rows: 20, total: 100, payloadBytes: 1024, labelLength: 200 },
  urlButtons: true,
  contactRequest: true,
  locationRequest: true,
  edits: true,
  images: true,
  files: true,
  idempotentSend: false,
};
