/**
 * The user side of the emulator under `/_emulator/...`: act as a person (write, send a photo,
 * a document or a location, press a button, press Start, deny or allow messages), read what the
 * bot sent, and inspect or steer the emulator (API calls, injected errors, long-poll keys and
 * history, the Callback API server and its deliveries, callback-button answers).
 */
import type { FastifyInstance } from 'fastify';
import type { CallbackPusher } from './callback.ts';
import { personAllows, personDenies, personPresses, personSends, personStarts, seenMessages, type Press } from './people.ts';
import type { VkState } from './state.ts';

interface SendBody {
  text?: string;
  /** Base64 images. */
  photos?: string[];
  doc?: { base64: string; name: string };
  geo?: { latitude: number; longitude: number };
  payload?: string;
}

function userId(params: unknown): number {
  const id = Number((params as { id: string }).id);
  if (!Number.isSafeInteger(id) || id <= 0 || id >= 2_000_000_000) throw Object.assign(new Error('user id must be a positive integer below 2000000000'), { statusCode: 400 });
  return id;
}

export function userApiRoutes(app: FastifyInstance, state: VkState, pusher: CallbackPusher): void {
  app.register(
    async (scope) => {
      scope.setErrorHandler((err: { statusCode?: number; message: string }, _req, reply) => {
        reply.code(err.statusCode && err.statusCode < 500 ? err.statusCode : 400).send({ error: err.message });
      });

      scope.post('/users/:id/messages', async (req) => {
        const b = (req.body ?? {}) as SendBody;
        return personSends(state, userId(req.params), {
          ...(b.text !== undefined ? { text: String(b.text) } : {}),
          ...(b.photos ? { photos: b.photos.map((p) => Buffer.from(p, 'base64')) } : {}),
          ...(b.doc ? { doc: { bytes: Buffer.from(b.doc.base64, 'base64'), name: b.doc.name } } : {}),
          ...(b.geo ? { geo: { latitude: Number(b.geo.latitude), longitude: Number(b.geo.longitude) } } : {}),
          ...(b.payload !== undefined ? { payload: String(b.payload) } : {}),
        });
      });
      scope.post('/users/:id/start', async (req) => {
        const b = (req.body ?? {}) as { ref?: string };
        return personStarts(state, userId(req.params), b.ref);
      });
      scope.post('/users/:id/press', async (req) => personPresses(state, userId(req.params), (req.body ?? {}) as Press));
      scope.post('/users/:id/deny', async (req) => personDenies(state, userId(req.params)));
      scope.post('/users/:id/allow', async (req) => personAllows(state, userId(req.params)));
      scope.put('/users/:id', async (req) => {
        const u = state.user(userId(req.params));
        const b = (req.body ?? {}) as { firstName?: string; lastName?: string; langId?: number };
        if (b.firstName) u.firstName = b.firstName;
        if (b.lastName) u.lastName = b.lastName;
        if (typeof b.langId === 'number') u.langId = b.langId;
        return u;
      });
      scope.get('/users/:id', async (req) => state.user(userId(req.params)));
      scope.get('/users/:id/messages', async (req) => {
        const q = req.query as { all?: string };
        return seenMessages(state, userId(req.params), q.all === '1' || q.all === 'true');
      });

      scope.get('/calls', async (req) => {
        const q = req.query as { method?: string };
        return q.method ? state.calls.filter((c) => c.method === q.method) : state.calls;
      });
      scope.post('/faults', async (req) => {
        const b = (req.body ?? {}) as { method?: string; error?: number; httpStatus?: number; times?: number; after?: number };
        if (!b.method || (!b.error && !b.httpStatus)) throw Object.assign(new Error('method and error or httpStatus are required'), { statusCode: 400 });
        state.faults.push({ method: b.method, error: b.error, httpStatus: b.httpStatus, times: b.times ?? 1, after: b.after ?? 0 });
        return { ok: true };
      });
      scope.get('/events', async () => ({ firstTs: state.firstTs, nextTs: state.nextTs, events: state.events, longPollFailed: state.longPollFailed }));
      scope.get('/events/:eventId/delivered', async (req) => {
        const q = req.query as { timeoutMs?: string };
        const via = await state.waitDelivered((req.params as { eventId: string }).eventId, Math.min(Number(q.timeoutMs) || 0, 60_000));
        return { delivered: via !== null, via };
      });
      scope.get('/event-answers', async () => [...state.messageEvents.values()]);

      scope.post('/longpoll/expire-keys', async () => (state.invalidateKeys('expired'), { ok: true }));
      scope.post('/longpoll/lose', async () => (state.invalidateKeys('lost'), { ok: true }));
      scope.post('/longpoll/truncate', async () => (state.truncateHistory(), { ok: true }));

      scope.post('/callback', async (req, reply) => {
        const b = (req.body ?? {}) as { url?: string; secret?: string; confirmation?: string };
        if (!b.url || !b.confirmation) return reply.code(400).send({ error: 'url and confirmation are required' });
        try {
          await pusher.configure({ url: b.url, secret: b.secret || undefined, confirmation: b.confirmation });
        } catch (err: unknown) {
          return reply.code(409).send({ confirmed: false, error: err instanceof Error ? err.message : String(err) });
        }
        return { confirmed: true };
      });
      scope.delete('/callback', async () => (pusher.remove(), { ok: true }));
      scope.get('/callback/deliveries', async () => pusher.deliveries);
      scope.post('/callback/idle', async () => (await pusher.idle(), { ok: true }));
    },
    { prefix: '/_emulator' },
  );
}
