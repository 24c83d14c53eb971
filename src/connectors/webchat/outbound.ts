/**
 * RenderPlan → the `message` frame the browser shows, and the stored conversation → the history
 * a returning visitor sees. Text becomes HTML through core's `toHtml` after unsafe link targets
 * are dropped, so the browser only ever receives `<b>`, `<i>` and `<a href="http(s)|mailto|tel">`.
 */
import type { Capabilities } from '../../core/capabilities.ts';
import { toHtml, toSpans, type RichText, type Span } from '../../core/format.ts';
import type { Button, InboundEvent, OutgoingMessage } from '../../core/model.ts';
import { renderMessage, type RenderPlan } from '../../core/render.ts';
import { inboundView } from './inbound.ts';
import type { ButtonView, HistoryEntry, PartView, ServerFrame } from './protocol.ts';
import { safeHref, safeUrl, type WebchatFiles } from './uploads.ts';

/**
 * One stored message of a web chat conversation, as the runtime's `history` function returns it
 * (oldest first, at most the last 100). `id` is the messages table row id.
 */
export interface HistoryItem {
  id: number;
  direction: 'in' | 'out';
  /** When it was stored, ms since epoch. */
  at: number;
  /** Set on inbound items. */
  event?: InboundEvent;
  /** Set on outbound items. */
  message?: OutgoingMessage;
  /** On an outbound edit: the row id of the earlier outbound message it replaces in place. */
  editOf?: number;
}

/** Platform id of part `part` of outbound message `messageId`. */
export function partId(messageId: number, part: number): string {
  return `web-${messageId}-${part}`;
}

/** Sanitised HTML of rich text: core's toHtml over spans whose unsafe links became plain text. */
export function richHtml(text: RichText | Span[]): string {
  return toHtml(
    toSpans(text).map((s) => {
      if (s.href === undefined) return s;
      const href = safeHref(s.href);
      if (href) return { ...s, href };
      const { href: _dropped, ...rest } = s;
      return rest;
    }),
  );
}

function buttonView(b: Button): ButtonView | undefined {
  switch (b.type) {
    case 'action':
      return { type: 'action', label: b.label, payload: b.payload };
    case 'url': {
      const url = safeUrl(b.url);
      return url ? { type: 'url', label: b.label, url } : undefined;
    }
    default:
      return { type: b.type, label: b.label };
  }
}

/**
 * The parts of one outbound message as the browser shows them. Media that cannot be shown (an
 * unsafe URL, a missing local file) becomes its caption or name as text rather than failing the
 * whole message: `onDropped` is told, so the caller can log it.
 */
export async function renderParts(
  messageId: number,
  plan: RenderPlan,
  files: WebchatFiles,
  onDropped: (reason: string, err?: unknown) => void,
): Promise<PartView[]> {
  const views: PartView[] = [];
  for (const [i, part] of plan.parts.entries()) {
    const view: PartView = { id: partId(messageId, i) };
    const html: string[] = [];
    if (part.text) html.push(richHtml(part.text));
    for (const kind of ['image', 'file'] as const) {
      const media = part[kind];
      if (!media) continue;
      const captionHtml = media.caption !== undefined ? richHtml(media.caption) : undefined;
      let url: string | undefined;
      try {
        url = await files.materialise(media, kind);
      } catch (err: unknown) {
        onDropped(`${kind} could not be stored`, err);
      }
      if (!url) {
        if (media.url !== undefined && url === undefined) onDropped(`${kind} URL is not http(s)`);
        html.push(captionHtml ?? richHtml(media.name ?? kind));
        continue;
      }
      if (kind === 'image') view.image = captionHtml ? { url, captionHtml } : { url };
      else view.file = { url, name: media.name ?? 'file', ...(captionHtml ? { captionHtml } : {}) };
    }
    if (html.length) view.html = html.join('\n');
    if (part.buttons?.length) {
      const rows = part.buttons
        .map((row) => row.map(buttonView).filter((b): b is ButtonView => !!b))
        .filter((row) => row.length > 0);
      if (rows.length) {
        view.buttons = rows;
        view.keyboard = part.keyboard ?? 'inline';
      }
    }
    if (part.removeKeyboard) view.removeKeyboard = true;
    views.push(view);
  }
  return views;
}

/** The frame that shows one outbound message live, and its parts. */
export interface LiveFrame {
  frame: ServerFrame;
  parts: PartView[];
  /** The action buttons it offers, to remember for the visitor. */
  actions: Array<{ payload: string; label: string }>;
}

/**
 * The live frame of outbound message `messageId`: a `message`, or for an edit an `edit` that
 * takes the place (and the id) of the part it replaces — the last part of the earlier message,
 * whose id the runtime recorded as `editTarget`.
 */
export async function liveFrame(
  messageId: number,
  message: OutgoingMessage,
  plan: RenderPlan,
  editTarget: string | undefined,
  files: WebchatFiles,
  onDropped: (reason: string, err?: unknown) => void,
): Promise<LiveFrame> {
  const parts = await renderParts(messageId, plan, files, onDropped);
  const actions = (message.buttons ?? []).flat().flatMap((b) => (b?.type === 'action' ? [{ payload: b.payload, label: b.label }] : []));
  if (editTarget !== undefined) {
    if (parts.length) parts[0] = { ...parts[0], id: editTarget };
    return { frame: { type: 'edit', target: editTarget, at: Date.now(), parts }, parts, actions };
  }
  return { frame: { type: 'message', id: partId(messageId, 0), at: Date.now(), parts }, parts, actions };
}

/**
 * The history a visitor sees on (re)connecting: every stored message re-rendered with the
 * connector's capabilities, edits applied in place, starts and system events left out. Also
 * returns the action buttons the outbound messages offered (label by payload).
 */
export async function historyEntries(
  items: readonly HistoryItem[],
  caps: Capabilities,
  files: WebchatFiles,
  onDropped: (reason: string, err?: unknown) => void,
): Promise<{ entries: HistoryEntry[]; labels: Map<string, string> }> {
  const entries: HistoryEntry[] = [];
  const labels = new Map<string, string>();
  const outIndex = new Map<number, number>();
  for (const item of items) {
    if (item.direction === 'in') {
      const view = item.event && inboundView(item.event, (p) => labels.get(p));
      if (view) entries.push({ dir: 'in', id: `in-${item.id}`, at: item.at, view });
      continue;
    }
    if (!item.message) continue;
    for (const b of (item.message.buttons ?? []).flat()) {
      if (b?.type === 'action') labels.set(b.payload, b.label);
    }
    const parts = await renderParts(item.id, renderMessage(item.message, caps), files, onDropped);
    const replaced = item.editOf !== undefined ? outIndex.get(item.editOf) : undefined;
    const earlier = replaced !== undefined ? entries[replaced] : undefined;
    if (replaced !== undefined && earlier?.dir === 'out' && earlier.parts.length && parts.length) {
      // As live: the edit replaces the earlier message's last part (the id the runtime recorded)
      // and takes over that part's id.
      const last = earlier.parts[earlier.parts.length - 1];
      parts[0] = { ...parts[0], id: last.id };
      entries[replaced] = { ...earlier, parts: [...earlier.parts.slice(0, -1), ...parts] };
      outIndex.set(item.id, replaced);
      continue;
    }
    outIndex.set(item.id, entries.length);
    entries.push({ dir: 'out', id: `out-${item.id}`, at: item.at, parts });
  }
  return { entries, labels };
}
