import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwitchboard, type Switchboard } from '../../src/runtime/switchboard.ts';
import { createEchoBot } from '../helpers/echo-bot.ts';
import { createFakeConnector } from '../helpers/fake-connector.ts';

describe('health, readiness and metrics', () => {
  let sb: Switchboard;
  const fake = createFakeConnector();
  beforeAll(async () => {
    sb = await startSwitchboard({
      env: { DATABASE_URL: 'sqlite::memory:', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', WEBCHAT_ENABLED: 'false' },
      bot: createEchoBot(),
      connectors: [fake],
    });
  });
  afterAll(async () => sb?.close());

  it('answers /healthz and /readyz when the database and the bus are up', async () => {
    expect(await (await fetch(`${sb.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${sb.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', bus: 'ok' } });
  });

  it('exports pipeline metrics in Prometheus format', async () => {
    await fake.receive('m1', { kind: 'message', text: 'count me' });
    await fake.waitFor('m1', 1);
    const text = await (await fetch(`${sb.url}/metrics`)).text();
    expect(text).toMatch(/switchboard_inbound_total\{platform="fake",result="stored"\} 1/);
    expect(text).toMatch(/switchboard_handler_seconds_count \d/);
    expect(text).toMatch(/switchboard_queue_depth\{direction="in"\} 0/);
    expect(text).toContain('switchboard_rate_limit_wait_seconds');
    expect(text).toContain('switchboard_sweeper_recoveries_total');
  });

  it('answers an unknown route with a JSON 404', async () => {
    const res = await fetch(`${sb.url}/nope`);
    expect(res.status).toBe(404);
  });

  it('reports not ready with the failing check when the database is gone', async () => {
    const other = await startSwitchboard({
      env: { DATABASE_URL: 'sqlite::memory:', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', WEBCHAT_ENABLED: 'false' },
      bot: createEchoBot(),
      connectors: [createFakeConnector()],
    });
    await other.store.db.schema.dropTable('leases').execute();
    const res = await fetch(`${other.url}/readyz`);
    expect(res.status).toBe(503);
    expect((await res.json()).checks.database).toMatch(/leases/);
    await other.close();
  });
});
