/**
 * An HTTP proxy between the gateways and the emulated platform API that can hold chosen requests
 * back for a while before passing them on, as a slow network or an overloaded platform does. A
 * held request reaches the platform late, so what it sends arrives after what was sent meanwhile.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ApiProxy {
  /** Use as the platform's API root (e.g. TELEGRAM_API_ROOT). */
  readonly url: string;
  /** Requests held back so far, and how many of those the platform has answered. */
  held(): number;
  released(): number;
  close(): Promise<void>;
}

/**
 * `delayOf(path, body)` says how long to hold a request (0: pass it on at once). The body is the
 * raw request body; JSON bodies can be parsed by the caller.
 */
export async function startApiProxy(target: string, delayOf: (path: string, body: Buffer) => number): Promise<ApiProxy> {
  let held = 0;
  let released = 0;
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const delay = delayOf(req.url ?? '/', body);
      if (delay > 0) held++;
      setTimeout(() => {
        const u = new URL(req.url ?? '/', target);
        const up = http.request(u, { method: req.method, headers: { ...req.headers, host: u.host }, agent }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
          if (delay > 0) r.on('end', () => released++);
        });
        up.on('error', () => {
          if (!res.headersSent) res.writeHead(502);
          res.end();
        });
        up.end(body);
      }, delay);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held: () => held,
    released: () => released,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
