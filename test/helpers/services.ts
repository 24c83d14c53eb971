/**
 * External services for tests. On a laptop without PostgreSQL or RabbitMQ the tests that need
 * them skip with a message naming the missing service; in CI (`CI=true` or
 * `SWITCHBOARD_REQUIRE_SERVICES=1`) a missing service is a failure, not a skip.
 */
import net from 'node:net';

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const RABBITMQ_URL = process.env.TEST_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

const required = process.env.SWITCHBOARD_REQUIRE_SERVICES === '1' || process.env.CI === 'true';

/** Whether a TCP connection to the URL's host and port (or `defaultPort`) opens within 1.5 s. */
export function reachable(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port || defaultPort) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function check(name: string, url: string, port: number): Promise<boolean> {
  if (await reachable(url, port)) return true;
  if (required) throw new Error(`${name} is required (CI) but not reachable at ${new URL(url).host}`);
  console.warn(`skipping ${name} tests: ${name} is not reachable at ${new URL(url).host}`);
  return false;
}

/** Resolves true when PostgreSQL is reachable; false (skip) on a laptop without it; throws in CI. */
export const havePostgres = () => check('PostgreSQL', POSTGRES_URL, 5432);
/** Resolves true when RabbitMQ is reachable; false (skip) on a laptop without it; throws in CI. */
export const haveRabbitMQ = () => check('RabbitMQ', RABBITMQ_URL, 5672);
