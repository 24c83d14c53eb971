import { describe, expect, it } from 'vitest';
import { vkConfigFromEnv } from '../../../src/connectors/vk/config.ts';

const base = { VK_ACCESS_TOKEN: 'vk1.a.SECRETTOKEN', VK_GROUP_ID: '218000001' };

describe('VK configuration from the environment', () => {
  it('is off when VK_ACCESS_TOKEN is unset or empty', () => {
    expect(vkConfigFromEnv({})).toBeNull();
    expect(vkConfigFromEnv({ VK_ACCESS_TOKEN: '  ', VK_GROUP_ID: '1' })).toBeNull();
  });

  it('defaults to long poll, the public API root and 20 requests per second', () => {
    expect(vkConfigFromEnv(base)).toEqual({
      groupId: 218000001,
      accessToken: 'vk1.a.SECRETTOKEN',
      mode: 'longpoll',
      secret: undefined,
      confirmation: undefined,
      apiRoot: 'https://api.vk.com/method',
      maxRps: 20,
    });
  });

  it('reads callback mode with its secret and confirmation string', () => {
    const o = vkConfigFromEnv({ ...base, VK_MODE: 'callback', VK_SECRET: 's', VK_CONFIRMATION: 'abc123', VK_API_ROOT: 'http://127.0.0.1:9/method/', VK_MAX_RPS: '50' });
    expect(o).toMatchObject({ mode: 'callback', secret: 's', confirmation: 'abc123', apiRoot: 'http://127.0.0.1:9/method', maxRps: 50 });
  });

  it.each([
    [{ VK_GROUP_ID: undefined }, /VK_GROUP_ID is required/],
    [{ VK_GROUP_ID: '-218000001' }, /VK_GROUP_ID must be the community id/],
    [{ VK_GROUP_ID: 'club1' }, /VK_GROUP_ID must be the community id/],
    [{ VK_MODE: 'webhook' }, /VK_MODE must be `callback` or `longpoll`/],
    [{ VK_API_ROOT: 'api.vk.com' }, /VK_API_ROOT must be an http\(s\) URL/],
    [{ VK_MAX_RPS: '0' }, /VK_MAX_RPS must be a positive number/],
    [{ VK_MAX_RPS: 'fast' }, /VK_MAX_RPS must be a positive number/],
    [{ VK_MODE: 'callback', VK_CONFIRMATION: 'x' }, /VK_SECRET is required when VK_MODE=callback/],
    [{ VK_MODE: 'callback', VK_SECRET: 'x' }, /VK_CONFIRMATION is required when VK_MODE=callback/],
  ])('refuses %o naming the variable', (patch, message) => {
    const env = { ...base, ...patch } as NodeJS.ProcessEnv;
    expect(() => vkConfigFromEnv(env)).toThrow(message);
  });

  it('never puts a secret value into its error', () => {
    try {
      vkConfigFromEnv({ ...base, VK_MODE: 'callback', VK_SECRET: 'TOPSECRETVALUE', VK_MAX_RPS: '-1' });
      expect.unreachable();
    } catch (err: unknown) {
      expect(String(err)).not.toContain('TOPSECRETVALUE');
      expect(String(err)).not.toContain('SECRETTOKEN');
    }
  });
});
