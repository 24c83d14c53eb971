/**
 * A small HTTP load balancer, as a deployment puts in front of its gateway replicas: requests go
 * round-robin to the upstreams; an upstream that refuses the connection (dead, not yet listening)
 * is skipped for the next one, as nginx's `proxy_next_upstream error` does. Any other failure
 * answers 502, and the platform (here the emulator) retries the webhook later.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Balancer {
  /** Base URL to give the platform, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  add(upstream: string): void;
  remove(upstream: string): void;
  /** Requests answered per upstream, and how many got a 502. */
  stats(): { byUpstream: Record<string, number>; badGateway: number };
  close(): Promise<void>;
}

export async function startBalancer(): Promise<Balancer> {
  const upstreams: string[] = [];
  const byUpstream: Record<string, number> = {};
  let badGateway = 0;
  let next = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

  function forward(target: string, req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    const u = new URL(req.url ?? '/', target);
    return new Promise((resolve, reject) => {
      const up = http.request(u, { method: req.method, headers: { ...req.headers, host: u.host }, agent, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      up.on('timeout', () => up.destroy(new Error('upstream timeout')));
      up.on('error', reject);
      up.end(body);
    });
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const tried = new Set<string>();
        while (tried.size < upstreams.length) {
          const target = upstreams[next++ % upstreams.length];
          if (tried.has(target)) continue;
          tried.add(target);
          try {
            const r = await forward(target, req, body);
            byUpstream[target] = (byUpstream[target] ?? 0) + 1;
            res.writeHead(r.status, { 'content-type': r.headers['content-type'] ?? 'application/json' });
            res.end(r.body);
            return;
          } catch (err: unknown) {
            // Only a refused connection proves the request never reached the upstream.
            if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') continue;
            break;
          }
        }
        badGateway++;
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end('{"error":"bad gateway"}');
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    add: (u) => void (upstreams.includes(u) || upstreams.push(u)),
    remove: (u) => {
      const i = upstreams.indexOf(u);
      if (i >= 0) upstreams.splice(i, 1);
    },
    stats: () => ({ byUpstream: { ...byUpstream }, badGateway }),
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
