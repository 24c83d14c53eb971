/**
 * The web chat's plain HTTP routes: the chat page at `/`, its static assets and the embeddable
 * widget under `/webchat/`, image uploads and the stored files. The assets are the few files of
 * src/web/public, read once at registration: no build step, and nothing outside that folder is
 * reachable by a crafted path.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { TOKEN_PATTERN } from './protocol.ts';
import { UPLOAD_TYPES, contentTypeOf, imageSize, looksLike, type WebchatFiles } from './uploads.ts';
import { visitorId } from './visitor.ts';
import type { Visitors } from './visitors.ts';

/** Where the page, the client code and the widget live. */
export const PUBLIC_DIR = fileURLToPath(new URL('../../web/public/', import.meta.url));

const ASSET_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

async function loadAssets(dir: string): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const type = ASSET_TYPES[path.extname(entry.name)];
    if (!entry.isFile() || !type) continue;
    const body = await readFile(path.join(dir, entry.name));
    assets.set(entry.name, { body, type, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 20)}"` });
  }
  return assets;
}

export interface HttpDeps {
  files: WebchatFiles;
  visitors: Visitors;
  maxUploadBytes: number;
  log: Logger;
}

/** Security headers of the chat page. It may be framed anywhere: that is how the widget shows it. */
function pageHeaders(request: FastifyRequest): Record<string, string> {
  const host = /^[A-Za-z0-9.:[\]-]{1,255}$/.test(request.host) ? request.host : '';
  const sockets = host ? ` ws://${host} wss://${host}` : '';
  return {
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' https: http: data: blob:",
      `connect-src 'self'${sockets}`,
      "base-uri 'none'",
      "form-action 'none'",
      'frame-ancestors *',
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'strict-origin-when-cross-origin',
  };
}

function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  reply.header('content-type', asset.type).header('etag', asset.etag).header('cache-control', 'no-cache');
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.send(asset.body);
}

function fail(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  return reply.code(status).send({ error, message });
}

export async function registerHttpRoutes(app: FastifyInstance, deps: HttpDeps): Promise<void> {
  const assets = await loadAssets(PUBLIC_DIR);
  const page = assets.get('index.html');
  if (!page) throw new Error(`web chat page missing: ${path.join(PUBLIC_DIR, 'index.html')}`);
  const limitMiB = Math.round((deps.maxUploadBytes / 1024 / 1024) * 10) / 10;

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      deps.log.warn({ url: request.url }, 'webchat: upload over the limit refused');
      return fail(reply, 413, 'too-large', `Images may be at most ${limitMiB} MiB.`);
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return fail(reply, 415, 'unsupported-type', `Send the image as ${Object.keys(UPLOAD_TYPES).join(', ')}.`);
    }
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) deps.log.error({ err, url: request.url }, 'webchat: request failed');
    return fail(reply, status, status >= 500 ? 'internal' : 'bad-request', status >= 500 ? 'Something went wrong.' : err.message);
  });

  app.get('/', (request, reply) => {
    reply.headers(pageHeaders(request));
    return sendAsset(request, reply, page);
  });

  app.get<{ Params: { name: string } }>('/webchat/:name', (request, reply) => {
    const asset = assets.get(request.params.name);
    if (!asset) return fail(reply, 404, 'not-found', 'No such file.');
    if (asset.type.startsWith('text/html')) reply.headers(pageHeaders(request));
    // The widget is loaded by other sites' pages, which may require cross-origin resources to say so.
    if (request.params.name === 'widget.js') reply.header('cross-origin-resource-policy', 'cross-origin');
    return sendAsset(request, reply, asset);
  });

  app.addContentTypeParser(Object.keys(UPLOAD_TYPES), { parseAs: 'buffer', bodyLimit: deps.maxUploadBytes }, (_req, body, done) =>
    done(null, body),
  );

  app.post('/webchat/upload', { bodyLimit: deps.maxUploadBytes }, async (request, reply) => {
    const token = request.headers['x-webchat-token'];
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) {
      return fail(reply, 401, 'no-token', 'Send the visitor token in the X-Webchat-Token header.');
    }
    const visitor = visitorId(token);
    if (!deps.visitors.connected(visitor)) return fail(reply, 401, 'not-connected', 'Open the chat before uploading.');
    const mime = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const body = request.body;
    if (!Object.hasOwn(UPLOAD_TYPES, mime) || !Buffer.isBuffer(body)) {
      return fail(reply, 415, 'unsupported-type', `Send the image as ${Object.keys(UPLOAD_TYPES).join(', ')}.`);
    }
    if (body.length === 0) return fail(reply, 400, 'empty', 'The image is empty.');
    const dims = looksLike(body, mime) ? await imageSize(body) : undefined;
    if (!dims) {
      deps.log.warn({ visitor, mime }, 'webchat: upload content does not match its type');
      return fail(reply, 415, 'unsupported-type', `The file is not a ${mime} image.`);
    }
    const wait = deps.visitors.take(visitor);
    if (wait > 0) {
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      return fail(reply, 429, 'rate-limited', 'You are sending too fast. Please wait a moment.');
    }
    const name = await deps.files.saveUpload(body, mime, dims);
    deps.log.info({ visitor, name, bytes: body.length }, 'webchat: image uploaded');
    return reply.code(201).send({ url: deps.files.urlOf(name) });
  });

  app.get<{ Params: { name: string } }>('/webchat/files/:name', async (request, reply) => {
    const file = await deps.files.get(request.params.name);
    if (!file) return fail(reply, 404, 'not-found', 'No such file.');
    const type = contentTypeOf(request.params.name);
    reply
      .header('content-type', type)
      .header('content-length', String(file.bytes.length))
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .header('cross-origin-resource-policy', 'cross-origin')
      // Names are random or content-hashed: a name never changes what it points to.
      .header('cache-control', 'private, max-age=31536000, immutable');
    if (!type.startsWith('image/')) reply.header('content-disposition', 'attachment');
    return reply.send(file.bytes);
  });
}
