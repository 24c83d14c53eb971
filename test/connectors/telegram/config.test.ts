import { describe, expect, it } from 'vitest';
import { telegramConfigFromEnv } from '../../../src/connectors/telegram/index.ts';

const TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const SECRET = 'Zx_secret-value-1';

describe('Telegram configuration from the environment', () => {
  it('is off (null) without TELEGRAM_BOT_TOKEN, also when it is blank', () => {
    expect(telegramConfigFromEnv({})).toBeNull();
    expect(telegramConfigFromEnv({ TELEGRAM_BOT_TOKEN: '  ' })).toBeNull();
  });

  it('defaults to polling against api.telegram.org at 30 requests per second', () => {
    expect(telegramConfigFromEnv({ TELEGRAM_BOT_TOKEN: TOKEN })).toEqual({
      token: TOKEN,
      mode: 'polling',
      webhookSecret: undefined,
      webhookUrl: undefined,
      apiRoot: 'https://api.telegram.org',
      maxRps: 30,
      perChatPerSecond: 1,
      perChatBurst: 3,
    });
  });

  it('switches to webhook mode when a webhook URL is set, and reads the other variables', () => {
    const cfg = telegramConfigFromEnv({
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_WEBHOOK_URL: 'https://bot.example.org/webhooks/telegram',
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      TELEGRAM_API_ROOT: 'http://127.0.0.1:8081/',
      TELEGRAM_MAX_RPS: '100',
      TELEGRAM_CHAT_RPS: '5',
      TELEGRAM_CHAT_BURST: '10',
    });
    expect(cfg).toMatchObject({ mode: 'webhook', webhookSecret: SECRET, apiRoot: 'http://127.0.0.1:8081', maxRps: 100, perChatPerSecond: 5, perChatBurst: 10 });
  });

  it('names the variable and what it expected on a bad value, never echoing secrets', () => {
    const bad = (env: Record<string, string>) => () => telegramConfigFromEnv({ TELEGRAM_BOT_TOKEN: TOKEN, ...env });
    expect(() => telegramConfigFromEnv({ TELEGRAM_BOT_TOKEN: 'not-a-token-secretpart' })).toThrow(/TELEGRAM_BOT_TOKEN must look like/);
    expect(() => telegramConfigFromEnv({ TELEGRAM_BOT_TOKEN: 'not-a-token-secretpart' })).not.toThrow(/secretpart/);
    expect(bad({ TELEGRAM_MODE: 'push' })).toThrow(/TELEGRAM_MODE must be "webhook" or "polling"/);
    expect(bad({ TELEGRAM_MAX_RPS: 'fast' })).toThrow(/TELEGRAM_MAX_RPS must be a positive number/);
    expect(bad({ TELEGRAM_CHAT_RPS: '0' })).toThrow(/TELEGRAM_CHAT_RPS must be a positive number/);
    expect(bad({ TELEGRAM_CHAT_BURST: '2.5' })).toThrow(/TELEGRAM_CHAT_BURST must be a whole number/);
    expect(bad({ TELEGRAM_MAX_RPS: '0' })).toThrow(/TELEGRAM_MAX_RPS/);
    expect(bad({ TELEGRAM_API_ROOT: 'api.telegram.org' })).toThrow(/TELEGRAM_API_ROOT must be an http\(s\) URL/);
    expect(bad({ TELEGRAM_WEBHOOK_SECRET: 'has spaces and !' })).toThrow(/TELEGRAM_WEBHOOK_SECRET must be 1-256 characters/);
    expect(bad({ TELEGRAM_WEBHOOK_SECRET: 'has spaces and !' })).not.toThrow(/has spaces/);
    expect(bad({ TELEGRAM_MODE: 'webhook' })).toThrow(/TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_MODE=webhook/);
  });

  it('reads another bot\'s variables by prefix', () => {
    expect(() => telegramConfigFromEnv({ SUPPORT_TELEGRAM_BOT_TOKEN: TOKEN, SUPPORT_TELEGRAM_MAX_RPS: 'x' }, { prefix: 'SUPPORT_TELEGRAM_' })).toThrow(
      /^SUPPORT_TELEGRAM_MAX_RPS must be a positive number/,
    );
    expect(telegramConfigFromEnv({ SUPPORT_TELEGRAM_BOT_TOKEN: TOKEN }, { prefix: 'SUPPORT_TELEGRAM_', bot: 'support' })).toMatchObject({ token: TOKEN, bot: 'support' });
  });
});
