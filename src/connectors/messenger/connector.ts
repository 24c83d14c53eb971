/**
 * The Facebook Messenger connector: webhook in (verified by HMAC), Send API out, within
 * Messenger's capabilities, its rate limit and its 24-hour window.
 *
 * ```ts
 * const messenger = createMessengerConnector(messengerConfigFromEnv(process.env)!);
 * ```
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { ButtonLimits, Capabilities } from '../../core/capabilities.ts';
import type { Attachment } from '../../core/model.ts';
import type { Connector, ConnectorContext, Delivery, SendResult } from '../connector.ts';
import { RateLimiter } from '../rate-limiter.ts';
import { MessengerApi, type SendResponse } from './api.ts';
import { DEFAULT_GET_STARTED_PAYLOAD, type MessengerOptions } from './config.ts';
import {
  BUTTON_TITLE_LIMIT,
  loadUpload,
  messagingFor,
  partCalls,
  QUICK_REPLIES,
  TEXT_LIMIT,
  toDeliveryError,
  type Messaging,
  type MessengerCall,
} from './outbound.ts';
import { messengerWebhook } from './webhook.ts';

/**
 * Quick replies are a single scrolling row of ≤13 that replaces the composer until tapped, so
 * they serve both as "inline" buttons and as the reply keyboard (that is where the phone
 * request lives). Two distinct objects: the renderer tells the keyboards apart by identity.
 */
const quickReplyLimits = (): ButtonLimits => ({
  perRow: QUICK_REPLIES,
  rows: QUICK_REPLIES,
  total: QUICK_REPLIES,
  payloadBytes: 1000,
  labelLength: BUTTON_TITLE_LIMIT,
});

/** What Messenger can show. Captions do not exist: a caption is sent as text after the file. */
export const MESSENGER_CAPABILITIES: Capabilities = {
  textLimit: TEXT_LIMIT,
  captionLimit: 0,
  markup: 'none',
  inline: quickReplyLimits(),
  replyKeyboard: quickReplyLimits(),
  urlButtons: true,
  contactRequest: true,
  locationRequest: false,
  edits: false,
  images: true,
  files: true,
  idempotentSend: false,
};

export interface MessengerConnectorOptions extends Omit<MessengerOptions, 'getStartedPayload'> {
  getStartedPayload?: string;
  /**
   * Set the Get Started button (Messenger Profile API) when the connector starts, so its
   * payload is the one this connector treats as a start. Default true.
   */
  configureGetStarted?: boolean;
  fetch?: typeof fetch;
  log?: Logger;
}

export interface MessengerConnector extends Connector {
  readonly platform: 'messenger';
  readonly receiveMode: 'push';
}

/** Creates the Messenger connector. */
export function createMessengerConnector(opts: MessengerConnectorOptions): MessengerConnector {
  const bot = opts.bot ?? 'main';
  const getStartedPayload = opts.getStartedPayload ?? DEFAULT_GET_STARTED_PAYLOAD;
  const api = new MessengerApi({
    apiRoot: opts.apiRoot,
    accessToken: opts.pageAccessToken,
    timeoutMs: opts.timeoutMs,
    fetch: opts.fetch,
  });
  // Messenger has one page-wide send rate and no per-chat limit worth pacing for.
  const limiter = new RateLimiter({ platform: 'messenger', perSecond: opts.maxRps });
  const closed = new AbortController();
  // Every waiting send listens on this signal; a broadcast has many in flight at once.
  setMaxListeners(0, closed.signal);

  async function call(recipient: string, messaging: Messaging, c: MessengerCall): Promise<SendResponse> {
    await limiter.acquire(undefined, closed.signal);
    const fields = { recipient: { id: recipient }, ...messaging, message: c.message };
    if (!c.upload) return api.sendMessage(fields, closed.signal);
    const type = (c.message.attachment as { type: 'image' | 'file' }).type;
    return api.sendWithUpload(fields, await loadUpload(c.upload, type), closed.signal);
  }

  return {
    platform: 'messenger',
    bot,
    capabilities: MESSENGER_CAPABILITIES,
    receiveMode: 'push',

    registerRoutes(app, ctx: ConnectorContext) {
      app.register(
        messengerWebhook(
          { bot, getStartedPayload, appSecret: opts.appSecret, verifyToken: opts.verifyToken },
          ctx,
        ),
      );
    },

    async start(ctx: ConnectorContext) {
      // Meta pushes to the callback URL set in the app dashboard; there is nothing to poll.
      // Setting the Get Started payload makes new people's first tap arrive as a start.
      if (opts.configureGetStarted === false) return;
      try {
        await api.setProfile({ get_started: { payload: getStartedPayload } }, ctx.signal);
      } catch (err: unknown) {
        const log = opts.log ?? ctx.log;
        log.warn({ err: (err as Error).message }, 'could not set the Messenger Get Started button; set it in the page settings');
      }
    },

    /**
     * Sends every rendered part from `skip` on (parts before it were delivered by an earlier
     * attempt). Returns one id per part sent: the id of the part's last call, which carries
     * its buttons.
     */
    async send(delivery: Delivery): Promise<SendResult> {
      const skip = (delivery as { skip?: number }).skip ?? 0;
      const messaging = messagingFor(delivery, Date.now());
      const ids: string[] = [];
      try {
        for (const part of delivery.plan.parts.slice(skip)) {
          let last = '';
          for (const c of partCalls(part)) last = (await call(delivery.recipient, messaging, c)).message_id;
          ids.push(last);
        }
      } catch (err: unknown) {
        throw toDeliveryError(err, ids);
      }
      return { platformMessageIds: ids };
    },

    download(attachment: Attachment): Promise<Buffer> {
      return api.download(attachment.url ?? attachment.ref, closed.signal);
    },

    async close() {
      closed.abort(new Error('Messenger connector closed'));
    },
  };
}
