/**
 * Button helpers. Action payloads follow one convention: an id, optionally followed by data
 * after a colon — `profile`, `event:42`, `event:42:cancel`. `bot.action('event', …)` matches
 * `event` and every `event:…` payload (with the data in `ctx.match`); `bot.action('event:42', …)`
 * matches that payload only; a RegExp matches whatever it matches.
 *
 * ```ts
 * ctx.reply('Pick one', { buttons: [[action('Open', payload('event', 42))], [urlButton('Docs', url)]] });
 * ```
 */
import type { Button } from './model.ts';

/** Joins an action id and its data into a payload: `payload('event', 42)` → `event:42`. */
export function payload(id: string, ...data: Array<string | number>): string {
  return [id, ...data.map(String)].join(':');
}

/** A button that comes back as an `action` event carrying `payload`. */
export function action(label: string, payloadValue: string): Button {
  return { type: 'action', label, payload: payloadValue };
}

/** A button that opens a web address. */
export function urlButton(label: string, url: string): Button {
  return { type: 'url', label, url };
}

/** A button asking the person to share their phone number (answered by a `message:contact`). */
export function contactButton(label: string): Button {
  return { type: 'contact', label };
}

/** A button asking the person to share their location (answered by a `message:location`). */
export function locationButton(label: string): Button {
  return { type: 'location', label };
}
