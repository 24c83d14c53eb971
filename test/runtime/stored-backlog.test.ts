/**
 * Admission control in a process without core: acknowledgements wait while the database's backlog
 * is above the limit (stored-backlog.ts), and a gateway-only Switchboard uses it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSwitchboard, type Switchboard } from '../../src/runtime/switchboard.ts';
import { StoredBacklog } from '../../src/runtime/stored-backlog.ts';
import { createFakeConnector } from '../helpers/fake-connector.ts';

describe('StoredBacklog', () => {
  it('answers at once under the limit', async () => {
    let reads = 0;
    const gate = new StoredBacklog({ read: async () => (reads++, 3), limit: 5, refreshMs: 10 });
    expect(await gate.admit()).toBe('now');
    expect(await gate.admit()).toBe('now');
    expect(reads).toBe(1); // one read serves every request within refreshMs
  });

  it('holds a request until the backlog falls to the limit', async () => {
    let depth = 8;
    const gate = new StoredBacklog({ read: async () => depth, limit: 5, refreshMs: 5, maxWaitMs: 60_000 });
    let answer: string | undefined;
    const pending = gate.admit().then((a) => (answer = a));
    await new Promise((r) => setTimeout(r, 50));
    expect(answer).toBeUndefined();
    depth = 5;
    await pending;
    expect(answer).toBe('held');
  });

  it('holds at most maxWaitMs, and never on a failed read', async () => {
    const full = new StoredBacklog({ read: async () => 100, limit: 5, refreshMs: 5, maxWaitMs: 40 });
    expect(await full.admit()).toBe('held');
    const broken = new StoredBacklog({ read: () => Promise.reject(new Error('db down')), limit: 5, refreshMs: 5, maxWaitMs: 60_000 });
    expect(await broken.admit()).toBe('now');
  });
});

describe('a process without core', () => {
  let sb: Switchboard | undefined;
  afterEach(async () => {
    await sb?.close();
    sb = undefined;
  });

  it('stores every update but holds acknowledgements while the database backlog is above INBOX_MAX_BACKLOG', async () => {
    const fake = createFakeConnector();
    sb = await startSwitchboard({
      env: { DATABASE_URL: 'sqlite::memory:', PORT: '0', HOST: '127.0.0.1', WEBCHAT_ENABLED: 'false', LOG_LEVEL: 'silent', INBOX_MAX_BACKLOG: '2' },
      roles: ['gateway'],
      connectors: [fake],
    });
    for (let i = 1; i <= 4; i++) {
      expect(await fake.receive(`c${i}`, { kind: 'message', text: `m${i}` })).toMatchObject({ duplicate: false });
      // The backlog is read at most every 200 ms; let each update see the one before.
      await new Promise((r) => setTimeout(r, 250));
    }
    const stored = await sb.store.db.selectFrom('messages').select('status').where('direction', '=', 'in').execute();
    expect(stored.map((r) => r.status)).toEqual(['received', 'received', 'received', 'received']);
    // Nobody handles them here: the 3rd and 4th found 3 and 4 waiting, above the limit of 2.
    const metrics = await (await fetch(`${sb.url}/metrics`)).text();
    expect(metrics).toMatch(/^switchboard_inbox_acks_held_total\{backlog="stored"\} 2$/m);
  });
});
