import { describe, expect, it } from 'vitest';
import { messengerConfigFromEnv } from '../../../src/connectors/messenger/config.ts';

const base = {
  MESSENGER_PAGE_ACCESS_TOKEN: 'EAAsecretPageToken',
  MESSENGER_APP_SECRET: 'app-secret-value',
  MESSENGER_VERIFY_TOKEN: 'verify-token-value',
};

function error(env: NodeJS.ProcessEnv): string {
  try {
    messengerConfigFromEnv(env);
  } catch (err: unknown) {
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('Messenger configuration', () => {
  it('is off (null) when the page access token is unset or empty', () => {
    expect(messengerConfigFromEnv({})).toBeNull();
    expect(messengerConfigFromEnv({ MESSENGER_PAGE_ACCESS_TOKEN: '  ', MESSENGER_APP_SECRET: 'x' })).toBeNull();
  });

  it('reads the variables, with defaults for the API root, rate and Get Started payload', () => {
    expect(messengerConfigFromEnv(base)).toEqual({
      pageAccessToken: 'EAAsecretPageToken',
      appSecret: 'app-secret-value',
      verifyToken: 'verify-token-value',
      apiRoot: 'https://graph.facebook.com/v24.0',
      maxRps: 250,
      getStartedPayload: 'GET_STARTED',
    });
    const custom = messengerConfigFromEnv({
      ...base,
      MESSENGER_API_ROOT: 'http://127.0.0.1:8081/v21.0/',
      MESSENGER_MAX_RPS: '600',
      MESSENGER_GET_STARTED_PAYLOAD: 'START',
    });
    expect(custom).toMatchObject({ apiRoot: 'http://127.0.0.1:8081/v21.0', maxRps: 600, getStartedPayload: 'START' });
  });

  it('names the missing variable when the token is set without the secret or verify token', () => {
    expect(error({ MESSENGER_PAGE_ACCESS_TOKEN: 'EAAsecretPageToken', MESSENGER_VERIFY_TOKEN: 'v' })).toMatch(/MESSENGER_APP_SECRET is required/);
    expect(error({ MESSENGER_PAGE_ACCESS_TOKEN: 'EAAsecretPageToken', MESSENGER_APP_SECRET: 's' })).toMatch(/MESSENGER_VERIFY_TOKEN is required/);
  });

  it('explains a bad rate or API root without echoing any secret', () => {
    const rate = error({ ...base, MESSENGER_MAX_RPS: 'fast' });
    expect(rate).toMatch(/MESSENGER_MAX_RPS must be a positive number/);
    expect(error({ ...base, MESSENGER_MAX_RPS: '0' })).toMatch(/MESSENGER_MAX_RPS/);
    const root = error({ ...base, MESSENGER_API_ROOT: 'graph.facebook.com' });
    expect(root).toMatch(/MESSENGER_API_ROOT must be an http\(s\) URL/);
    for (const msg of [rate, root]) {
      for (const secret of Object.values(base)) expect(msg).not.toContain(secret);
    }
  });
});
