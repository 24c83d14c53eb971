/**
 * The Messenger Platform's limits and error shapes, as the Send API reports them. Graph answers
 * errors as `{"error":{message,type,code,error_subcode,fbtrace_id}}` with an HTTP 4xx/5xx.
 */
import { randomBytes } from 'node:crypto';

export const TEXT_LIMIT = 2000;
export const TEMPLATE_TEXT_LIMIT = 640;
export const TEMPLATE_BUTTONS = 3;
export const QUICK_REPLIES = 13;
export const TITLE_LIMIT = 20;
export const PAYLOAD_LIMIT = 1000;
export const WINDOW_MS = 24 * 3_600_000;
export const HUMAN_AGENT_WINDOW_MS = 7 * 24 * 3_600_000;
/** Tags that let a message go out after the 24-hour window. */
export const MESSAGE_TAGS = ['CONFIRMED_EVENT_UPDATE', 'POST_PURCHASE_UPDATE', 'ACCOUNT_UPDATE', 'HUMAN_AGENT'];
export const MESSAGING_TYPES = ['RESPONSE', 'UPDATE', 'MESSAGE_TAG'];
/** Meta documents ~300 sends per second per page. */
export const DEFAULT_MAX_RPS = 300;

/** A Graph error the bot-side routes answer with. */
export class GraphError extends Error {
  readonly status: number;
  readonly code: number;
  readonly subcode?: number;
  readonly type: string;

  constructor(status: number, code: number, message: string, opts: { subcode?: number; type?: string } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.subcode = opts.subcode;
    this.type = opts.type ?? 'OAuthException';
  }

  body(): { error: Record<string, unknown> } {
    return {
      error: {
        message: this.message,
        type: this.type,
        code: this.code,
        ...(this.subcode !== undefined ? { error_subcode: this.subcode } : {}),
        fbtrace_id: randomBytes(8).toString('base64').replace(/[^A-Za-z0-9]/g, 'x'),
      },
    };
  }
}

export const graphErrors = {
  badToken: () => new GraphError(400, 190, 'Invalid OAuth access token - Cannot parse access token'),
  rateLimited: () => new GraphError(400, 613, '(#613) Calls to this api have exceeded the rate limit.'),
  unavailable: () => new GraphError(400, 551, "(#551) This person isn't available right now.", { subcode: 1545041 }),
  outsideWindow: () =>
    new GraphError(
      400,
      10,
      '(#10) This message is sent outside of allowed window. Learn more about the new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview',
      { subcode: 2018278 },
    ),
  noUser: () => new GraphError(400, 100, '(#100) No matching user found', { subcode: 2018001 }),
  param: (message: string, subcode?: number) => new GraphError(400, 100, `(#100) ${message}`, { subcode }),
  unknownPath: (path: string) =>
    new GraphError(400, 100, `Unsupported post request. Object with ID '${path}' does not exist`, { type: 'GraphMethodException' }),
};

/** A message id in Messenger's style (`m_` + opaque). */
export function newMid(): string {
  return `m_${randomBytes(18).toString('base64url')}`;
}
