import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/database.ts';
import { spawnSwitchboard } from '../helpers/process.ts';
import { WebchatClient } from '../helpers/webchat-client.ts';

async function waitFor(pred: () => boolean, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('crash recovery', () => {
  it('answers a message exactly once when the process is SIGKILLed in the middle of handling it', { timeout: 120_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swb-crash-'));
    const marker = path.join(dir, 'handling');
    const env = {
      DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`,
      DATA_DIR: dir,
      BOT_MODULE: path.resolve('test/fixtures/crash-bot.ts'),
      CRASH_MARKER: marker,
      LEASE_MS: '1500',
      SWEEP_INTERVAL_MS: '300',
    };

    const first = await spawnSwitchboard({ ...env, CRASH_HANG: '1' });
    const client = new WebchatClient();
    await client.connect(first.url);
    const id = client.send({ type: 'text', text: 'slow' });
    await client.next((f) => f.type === 'ack' && f.id === id);
    await waitFor(() => fs.existsSync(marker), 'the handler to start');
    await first.stop('SIGKILL');
    client.close();

    const second = await spawnSwitchboard(env);
    try {
      const again = new WebchatClient(client.token);
      const welcome = await again.connect(second.url);
      // The answer arrives live, or was sent before we reconnected and shows in the history.
      const answers = () => [
        ...(welcome.history as Array<{ dir: string; parts?: Array<{ html?: string }> }>)
          .filter((h) => h.dir === 'out')
          .map((h) => h.parts!.map((p) => p.html).join('\n')),
        ...again.messageTexts(),
      ];
      await waitFor(() => answers().length > 0, 'the answer');
      // Give a duplicate every chance to show up before counting.
      await new Promise((r) => setTimeout(r, 1500));
      expect(answers()).toEqual(['answered: slow']);
      expect(fs.readFileSync(marker, 'utf8').trim().split('\n')).toHaveLength(2);
      again.close();
    } finally {
      await second.stop();
    }

    const store = openStore(env.DATABASE_URL);
    try {
      const rows = await store.db.selectFrom('messages').select(['direction', 'status', 'attempts']).orderBy('id').execute();
      expect(rows).toEqual([
        { direction: 'in', status: 'handled', attempts: 2 },
        { direction: 'out', status: 'sent', attempts: 1 },
      ]);
    } finally {
      await store.close();
    }
  });
});
