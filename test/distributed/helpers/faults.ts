/**
 * Faults aimed at one test's processes only: PostgreSQL connections are found by their
 * `application_name`, RabbitMQ connections by their client-provided name (which starts with the
 * cluster's queue prefix). Other test files sharing the services are never touched.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import pg from 'pg';
import { POSTGRES_URL, RABBITMQ_URL } from '../../helpers/services.ts';

const run = promisify(execFile);

/**
 * Terminates every backend of `appName` every `everyMs` for `durationMs`, so the processes keep
 * losing their connections for a while (not just once). Resolves with how many were terminated.
 */
export async function cutPostgres(appName: string, durationMs: number, everyMs = 200): Promise<number> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL, application_name: 'swbtest_fault_injector' });
  await admin.connect();
  let killed = 0;
  try {
    const until = Date.now() + durationMs;
    while (Date.now() < until) {
      const res = await admin.query<{ n: string }>(
        'select count(*) filter (where pg_terminate_backend(pid)) as n from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()',
        [appName],
      );
      killed += Number(res.rows[0]?.n ?? 0);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  } finally {
    await admin.end();
  }
  return killed;
}

/** True when this machine can close broker connections itself (local broker, rabbitmqctl as root). */
export async function canUseRabbitmqctl(): Promise<boolean> {
  if (!['127.0.0.1', 'localhost'].includes(new URL(RABBITMQ_URL).hostname) || process.getuid?.() !== 0) return false;
  return run('rabbitmqctl', ['version'], { timeout: 30_000 }).then(
    () => true,
    () => false,
  );
}

/** Closes, from the broker's side, every connection whose name starts with `prefix`. */
export async function closeRabbitConnections(prefix: string): Promise<number> {
  const { stdout } = await run('rabbitmqctl', ['list_connections', 'pid', 'client_properties', '-q', '--no-table-headers'], { timeout: 60_000 });
  const pids = stdout
    .split('\n')
    .filter((l) => l.includes(`{"connection_name","${prefix}`))
    .map((l) => l.split('\t')[0]);
  for (const pid of pids) {
    await run('rabbitmqctl', ['close_connection', pid, 'switchboard fault test: connection cut'], { timeout: 60_000 }).catch(() => undefined);
  }
  return pids.length;
}

/**
 * A TCP proxy in front of the broker, for machines where rabbitmqctl is not usable: `cut()`
 * drops every connection through it, as a network failure would.
 */
export async function startBrokerProxy(): Promise<{ url: string; cut(): number; close(): Promise<void> }> {
  const target = new URL(RABBITMQ_URL);
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: target.hostname, port: Number(target.port || 5672) });
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    for (const s of pair) s.on('error', () => undefined);
    client.pipe(upstream).pipe(client);
    const drop = () => {
      for (const socket of pair) socket.destroy();
      pairs.delete(pair);
    };
    client.on('close', drop);
    upstream.on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(RABBITMQ_URL);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);
  return {
    url: url.toString().replace(/\/$/, ''),
    cut() {
      const n = pairs.size;
      for (const pair of pairs) for (const socket of pair) socket.destroy();
      return n;
    },
    close: () => {
      for (const pair of pairs) for (const socket of pair) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
