/**
 * Web chat frames → InboundUpdate, and stored inbound events → the bubble the person sees.
 * The frames reaching this module were parsed by protocol.ts and checked by the socket (limits,
 * known action, known upload), so the mapping itself cannot fail.
 */
import type { Attachment, InboundEvent, InboundUpdate } from '../../core/model.ts';
import type { EventFrame, InboundView } from './protocol.ts';

export interface FrameOrigin {
  bot: string;
  /** Public visitor id: both the chat id and the platform user id. */
  visitor: string;
  language?: string;
}

/**
 * The update a frame becomes. The dedup key joins the visitor id and the client's frame id, so a
 * frame resent after a reconnect is stored once, and one visitor cannot collide with another.
 * `image` is the resolved upload of an image frame.
 */
export function toInboundUpdate(frame: EventFrame, origin: FrameOrigin, image?: Attachment): InboundUpdate {
  return {
    platform: 'webchat',
    bot: origin.bot,
    dedupKey: `${origin.visitor}:${frame.id}`,
    chatId: origin.visitor,
    sender: { platformUserId: origin.visitor, ...(origin.language ? { language: origin.language } : {}) },
    event: toEvent(frame, image),
    platformMessageId: `in-${frame.id}`,
    raw: frame,
  };
}

function toEvent(frame: EventFrame, image?: Attachment): InboundEvent {
  switch (frame.type) {
    case 'start':
      return frame.payload ? { kind: 'start', payload: frame.payload } : { kind: 'start' };
    case 'text':
      return { kind: 'message', text: frame.text };
    case 'action':
      return frame.messageId
        ? { kind: 'action', payload: frame.payload, sourceMessageId: frame.messageId }
        : { kind: 'action', payload: frame.payload };
    case 'image':
      return {
        kind: 'message',
        images: image ? [image] : [],
        ...(frame.text?.trim() ? { text: frame.text } : {}),
      };
    case 'location':
      return { kind: 'message', location: { latitude: frame.latitude, longitude: frame.longitude } };
    case 'leave':
      return { kind: 'membership', status: 'blocked' };
    case 'contact':
      return {
        kind: 'message',
        contact: {
          phone: frame.phone,
          ...(frame.firstName ? { firstName: frame.firstName } : {}),
          ...(frame.lastName ? { lastName: frame.lastName } : {}),
          // A typed number: the web chat cannot vouch that it is the visitor's own.
          own: false,
        },
      };
  }
}

/**
 * How the person's own bubble shows an inbound event, or undefined for events that show
 * nothing (start, membership, system). `labelOf` finds a button's label by its payload.
 */
export function inboundView(event: InboundEvent, labelOf: (payload: string) => string | undefined): InboundView | undefined {
  switch (event.kind) {
    case 'message': {
      const view: InboundView = {};
      if (event.text) view.text = event.text;
      const images = (event.images ?? []).map((i) => i.url).filter((u): u is string => !!u);
      if (images.length) view.images = images;
      if (event.location) view.location = event.location;
      if (event.contact) view.contact = { phone: event.contact.phone };
      return Object.keys(view).length ? view : undefined;
    }
    case 'action':
      return { action: labelOf(event.payload) ?? event.payload };
    default:
      return undefined;
  }
}
