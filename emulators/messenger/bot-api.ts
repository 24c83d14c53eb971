/**
 * The bot-side Graph API: `POST /:version/me/messages` (JSON, or multipart with `filedata`),
 * `POST /:version/me/message_attachments`, `/:version/me/messenger_profile`, and the CDN that
 * serves files. Each request is checked as Meta does: the token (190), the page's send rate
 * (613), the message's limits (100), blocked people (551) and the 24-hour window (10/2018278).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GraphError, graphErrors, newMid } from './limits.ts';
import type { WebhookPusher } from './pusher.ts';
import type { ApiCallRecord, EmulatorState, PageMessage } from './state.ts';
import { attachmentOf, checkWindow, parseMessage, type Upload } from './validate.ts';

type Fields = Record<string, unknown>;

/** Reads JSON, urlencoded or multipart fields; Graph takes JSON-encoded values in forms. */
async function readRequest(req: FastifyRequest): Promise<{ fields: Fields; upload?: Upload }> {
  if (Buffer.isBuffer(req.body)) {
    const form = await new Response(new Uint8Array(req.body), {
      headers: { 'content-type': String(req.headers['content-type']) },
    }).formData();
    const fields: Fields = {};
    let upload: Upload | undefined;
    const entries: [string, FormDataEntryValue][] = [];
    form.forEach((value, key) => entries.push([key, value]));
    for (const [key, value] of entries) {
      if (typeof value === 'string') {
        fields[key] = /^\s*[[{]/.test(value) ? safeJson(value) : value;
      } else if (key === 'filedata') {
        upload = { bytes: Buffer.from(await value.arrayBuffer()), name: value.name || 'file', mime: value.type || 'application/octet-stream' };
      }
    }
    return { fields, upload };
  }
  return { fields: req.body && typeof req.body === 'object' ? (req.body as Fields) : {} };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw graphErrors.param('Invalid JSON in a form field');
  }
}

function tokenOf(req: FastifyRequest, fields: Fields): unknown {
  const q = req.query as Record<string, unknown>;
  const auth = req.headers.authorization;
  return q.access_token ?? fields.access_token ?? (auth?.startsWith('Bearer ') ? auth.slice(7) : undefined);
}

export function registerBotApi(app: FastifyInstance, state: EmulatorState, pusher: WebhookPusher): void {
  for (const type of ['multipart/form-data', 'application/x-www-form-urlencoded']) {
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: 30 * 1024 * 1024 }, (_req, body, done) => done(null, body));
  }

  /** Runs a Graph handler: answers its result, or its GraphError in Graph's shape; records the call. */
  const graph =
    (handler: (req: FastifyRequest, fields: Fields, upload?: Upload) => unknown) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      const record: ApiCallRecord = { at: Date.now(), method: req.method, path: req.url.split('?')[0], status: 200, body: undefined };
      state.calls.push(record);
      try {
        const { fields, upload } = await readRequest(req);
        const { access_token: _t, ...shown } = fields;
        record.body = upload ? { ...shown, filedata: { name: upload.name, mime: upload.mime, size: upload.bytes.length } } : shown;
        if (tokenOf(req, fields) !== state.config.accessToken) throw graphErrors.badToken();
        const result = await handler(req, fields, upload);
        return reply.code(200).send(result);
      } catch (err: unknown) {
        const e = err instanceof GraphError ? err : new GraphError(500, 1, `An unknown error occurred: ${(err as Error).message}`);
        record.status = e.status;
        record.error = { code: e.code, ...(e.subcode !== undefined ? { subcode: e.subcode } : {}), message: e.message };
        return reply.code(e.status).send(e.body());
      }
    };

  const checkNode = (req: FastifyRequest) => {
    const { node } = req.params as { node: string };
    if (node !== 'me' && node !== state.config.pageId) throw graphErrors.unknownPath(node);
  };

  app.post(
    '/:version/:node/messages',
    graph((req, fields, upload) => {
      checkNode(req);
      const injected = state.takeFailure();
      if (injected) throw injected;
      if (!state.takeSendSlot(Date.now())) throw graphErrors.rateLimited();
      const parsed = parseMessage(state, fields, upload);
      const user = state.users.get(parsed.recipient);
      if (!user) throw graphErrors.noUser();
      if (user.blocked) throw graphErrors.unavailable();
      checkWindow(user, parsed.messagingType, parsed.tag, Date.now());

      const message: PageMessage = { mid: newMid(), at: Date.now(), ...parsed };
      if (message.quickReplies) {
        // The phone and email quick replies show the person's own details.
        for (const q of message.quickReplies) {
          if (q.kind === 'user_phone_number') q.title = user.phone;
          if (q.kind === 'user_email') q.title = user.email;
        }
      }
      user.received.push(message);
      user.thread.push({ from: 'page', mid: message.mid, at: message.at });
      if (state.config.echoes) void pusher.push([echoEvent(state, message)]);
      return { recipient_id: user.psid, message_id: message.mid };
    }),
  );

  app.post(
    '/:version/:node/message_attachments',
    graph((req, fields, upload) => {
      checkNode(req);
      const message = fields.message as Fields | undefined;
      const attachment = message?.attachment as Fields | undefined;
      if (!attachment) throw graphErrors.param('param message[attachment] must be non-empty.');
      const sent = attachmentOf(state, attachment, upload);
      const id = String(1_000_000_000_000 + state.attachments.size + 1);
      state.attachments.set(id, sent);
      return { attachment_id: id };
    }),
  );

  app.post(
    '/:version/:node/messenger_profile',
    graph((req, fields) => {
      checkNode(req);
      const gs = fields.get_started as Fields | undefined;
      if (gs !== undefined) {
        if (typeof gs?.payload !== 'string' || gs.payload === '') throw graphErrors.param('param get_started[payload] must be non-empty.');
        state.getStartedPayload = gs.payload;
      }
      return { result: 'success' };
    }),
  );

  app.get(
    '/:version/:node/messenger_profile',
    graph((req) => {
      checkNode(req);
      return { data: [{ get_started: { payload: state.getStartedPayload } }] };
    }),
  );

  // The CDN: inbound attachment URLs and uploaded files resolve here.
  app.get('/cdn/:id/*', async (req, reply) => {
    const file = state.files.get((req.params as { id: string }).id);
    if (!file) return reply.code(404).send('Not Found');
    return reply.code(200).type(file.mime).header('content-length', file.bytes.length).send(file.bytes);
  });
}

/** The `is_echo` copy Meta pushes of a page's own message. */
function echoEvent(state: EmulatorState, m: PageMessage): unknown {
  const message: Record<string, unknown> = { mid: m.mid, is_echo: true, app_id: Number(state.config.appId) };
  if (m.text !== undefined) message.text = m.text;
  if (m.attachment) message.attachments = [{ type: m.attachment.type, payload: { url: m.attachment.url } }];
  if (m.buttons) message.attachments = [{ type: 'template', payload: { template_type: 'button', buttons: m.buttons } }];
  return { sender: { id: state.config.pageId }, recipient: { id: m.recipient }, timestamp: m.at, message };
}
