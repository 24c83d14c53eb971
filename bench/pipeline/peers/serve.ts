/**
 * What both peers share: their settings from the harness's environment, and serving the webhook
 * on a keep-alive node:http server that prints `ready <url>` once it listens and stops on SIGTERM.
 */
import type http from 'node:http';

/** A required variable from the harness. */
export function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
}

export function serve(server: http.Server): void {
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    process.stdout.write(`ready http://127.0.0.1:${port}/\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
