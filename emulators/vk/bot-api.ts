/**
 * The bot side of the emulator, at the addresses a community bot talks to: API methods at
 * `/method/<name>` (form or query parameters, errors with HTTP 200), the Bots Long Poll server at
 * `/whp/<group>`, the upload servers at `/upload/...` and the files they host at `/_files/...`.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ERROR_MESSAGES, RateWindow, VkError } from './limits.ts';
import { imageSize, mimeOf } from './media.ts';
import { METHODS, uploadHash } from './methods.ts';
import type { VkState } from './state.ts';

const MAX_WAIT_S = 90;

/** Collects string parameters from the query and a form or multipart body; VK ignores JSON bodies. */
async function paramsOf(req: FastifyRequest): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  const ct = String(req.headers['content-type'] ?? '');
  if (Buffer.isBuffer(req.body) && ct.startsWith('multipart/form-data')) {
    const form = await new Response(new Uint8Array(req.body), { headers: { 'content-type': ct } }).formData();
    form.forEach((v, k) => {
      if (typeof v === 'string') out[k] = v;
    });
  } else if (req.body instanceof URLSearchParams) {
    for (const [k, v] of req.body) out[k] = v;
  }
  return out;
}

export function botApiRoutes(app: FastifyInstance, state: VkState, opts: { rps: number; baseUrl: () => string }): void {
  const rate = new RateWindow(opts.rps);

  app.all('/method/:method', async (req, reply) => {
    const method = (req.params as { method: string }).method;
    let params: Record<string, string>;
    try {
      params = await paramsOf(req);
    } catch {
      params = {};
    }
    const { access_token: token, ...rest } = params;
    const record = { method, params: rest, at: Date.now() } as (typeof state.calls)[number];
    state.calls.push(record);
    const fail = (err: VkError) => {
      record.errorCode = err.code;
      return reply.send({
        error: {
          error_code: err.code,
          error_msg: err.message,
          request_params: [{ key: 'method', value: method }, ...Object.entries(rest).map(([key, value]) => ({ key, value }))],
        },
      });
    };
    try {
      if (!token) throw new VkError(5, 'User authorization failed: no access_token passed.');
      if (token !== state.token) throw new VkError(5);
      rate.take(token);
      const fault = state.takeFault(method);
      if (fault?.httpStatus) {
        record.errorCode = fault.httpStatus;
        return reply.code(fault.httpStatus).type('text/html').send('<html><body>Bad Gateway</body></html>');
      }
      if (fault?.error) throw new VkError(fault.error);
      if (!params.v) throw new VkError(8);
      const run = METHODS[method];
      if (!run) throw new VkError(3);
      const response = run(state, rest, { baseUrl: opts.baseUrl() });
      record.response = response;
      return reply.send({ response });
    } catch (err: unknown) {
      if (err instanceof VkError) return fail(err);
      return fail(new VkError(10, `${ERROR_MESSAGES[10]}: ${err instanceof Error ? err.message : String(err)}`));
    }
  });

  app.get('/whp/:group', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const failed = (code: 1 | 2 | 3) => {
      state.longPollFailed[code]++;
      return code === 1 ? { failed: 1, ts: String(state.nextTs) } : { failed: code };
    };
    if (q.act !== 'a_check') return failed(2);
    const keyState = q.key ? state.keys.get(q.key) : undefined;
    if (keyState === 'lost') return failed(3);
    if (keyState !== 'ok') return failed(2);
    const ts = Number(q.ts);
    if (!Number.isSafeInteger(ts) || ts > state.nextTs) return failed(1);
    const wait = Math.min(Math.max(Number(q.wait) || 0, 0), MAX_WAIT_S);
    const deadline = Date.now() + wait * 1000;
    for (;;) {
      const events = state.eventsFrom(ts);
      if (events === null) return failed(1);
      const k = state.keys.get(q.key as string);
      if (k !== 'ok') return failed(k === 'lost' ? 3 : 2);
      const left = deadline - Date.now();
      if (events.length || left <= 0 || state.closing) {
        for (const e of events) state.markDelivered(e.event_id, 'longpoll');
        return { ts: String(ts + events.length), updates: events };
      }
      await state.waitForEvent(left);
    }
  });

  app.post('/upload/:kind/:ticket', async (req, reply) => {
    const { kind, ticket } = req.params as { kind: string; ticket: string };
    if (state.tickets.get(ticket) !== kind) return reply.code(404).send({ error: 'ERR_UPLOAD_BAD_URL: upload URL is invalid or expired' });
    const ct = String(req.headers['content-type'] ?? '');
    if (!Buffer.isBuffer(req.body) || !ct.startsWith('multipart/form-data')) {
      return { error: 'ERR_UPLOAD_FILE_NOT_UPLOADED: multipart/form-data expected' };
    }
    let file: File | null = null;
    try {
      const form = await new Response(new Uint8Array(req.body), { headers: { 'content-type': ct } }).formData();
      const f = form.get(kind === 'photo' ? 'photo' : 'file');
      if (f && typeof f !== 'string') file = f;
    } catch {
      file = null;
    }
    if (!file) return { error: 'ERR_UPLOAD_FILE_NOT_UPLOADED: file not uploaded' };
    const bytes = Buffer.from(await file.arrayBuffer());
    const server = 800_000 + (state.groupId % 100_000);
    if (kind === 'photo' && !imageSize(bytes)) {
      // What VK answers for bytes that are not an image: an empty list, which saving rejects.
      return { server, photo: '[]', hash: uploadHash('[]') };
    }
    const fileId = state.files.put({ bytes, mime: mimeOf(bytes, file.name), name: file.name || 'file' });
    const token = `${kind}:${randomBytes(16).toString('hex')}`;
    const hash = uploadHash(token);
    state.pendingUploads.set(token, { fileId, kind, hash });
    return kind === 'photo' ? { server, photo: token, hash } : { file: token };
  });

  app.get('/_files/:id', async (req, reply) => {
    const f = state.files.get((req.params as { id: string }).id);
    if (!f) return reply.code(404).send('not found');
    return reply.type(f.mime).header('content-length', f.bytes.length).send(f.bytes);
  });
}
