/**
 * deploy/docker-compose.yml cannot be run here (no Docker engine), so its structure is checked:
 * it parses, runs each role as its own replicated service on PostgreSQL + RabbitMQ, and every
 * variable it gives Switchboard exists and holds a value Switchboard accepts.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/config.ts';
import { messengerConfigFromEnv } from '../../src/connectors/messenger/config.ts';
import { telegramConfigFromEnv } from '../../src/connectors/telegram/config.ts';
import { vkConfigFromEnv } from '../../src/connectors/vk/config.ts';

const text = fs.readFileSync('deploy/docker-compose.yml', 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  healthcheck?: { test?: string[]; disable?: boolean };
  ports?: string[];
}
const compose = parse(text, { merge: true }) as { services: Record<string, Service>; configs?: Record<string, { content?: string }> };
const { services } = compose;
const ROLES = ['core', 'gateway', 'web'] as const;
const SWITCHBOARD = ['migrate', ...ROLES];

/** Variable names Switchboard reads: the config schema's keys and each connector's. */
function knownVariables(): Set<string> {
  const names = new Set<string>();
  for (const m of fs.readFileSync('src/config/config.ts', 'utf8').matchAll(/^ {2}([A-Z][A-Z0-9_]+): /gm)) names.add(m[1]);
  for (const platform of ['telegram', 'vk', 'messenger']) {
    const source = fs.readFileSync(`src/connectors/${platform}/config.ts`, 'utf8');
    for (const m of source.matchAll(/\b((?:TELEGRAM|VK|MESSENGER)_[A-Z0-9_]*[A-Z0-9])\b/g)) names.add(m[1]);
  }
  return names;
}

/** Values for the variables the file takes from the operator's environment. */
const OPERATOR: Record<string, string> = {
  POSTGRES_PASSWORD: 'pg-password',
  RABBITMQ_PASSWORD: 'mq-password',
  TELEGRAM_BOT_TOKEN: '123456789:AAExampleTokenForTheComposeCheck_01',
  TELEGRAM_WEBHOOK_SECRET: 'example_webhook_secret',
  PUBLIC_URL: 'https://bot.example.org',
};

/** Compose interpolation: `${X:-default}`, `${X:?message}`, `${X}`, `$X`, and `$$` for a dollar. */
function interpolate(value: string): string {
  return value.replace(/\$\$|\$\{([A-Z0-9_]+)(?::?([-?])([^}]*))?\}|\$([A-Z0-9_]+)/g, (whole, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (whole === '$$') return '$';
    const name = braced ?? bare!;
    if (name in OPERATOR) return OPERATOR[name];
    if (op === '-') return arg ?? '';
    throw new Error(`deploy/docker-compose.yml uses \${${name}} but the check has no value for it`);
  });
}

const envOf = (name: string): Record<string, string> =>
  Object.fromEntries(Object.entries(services[name].environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));

describe('deploy/docker-compose.yml', () => {
  it('runs PostgreSQL, RabbitMQ, a migration step, each role as its own service, and a proxy', () => {
    expect(Object.keys(services).sort()).toEqual(['core', 'gateway', 'migrate', 'postgres', 'proxy', 'rabbitmq', 'web']);
    expect(services.postgres.image).toMatch(/^postgres:/);
    expect(services.rabbitmq.image).toMatch(/^rabbitmq:/);
    expect(services.migrate.command).toEqual(['migrate']);
    for (const role of ROLES) {
      expect(services[role].command, role).toEqual(['start', '--roles', role]);
      // Every role waits for healthy services and for the migration to be done.
      expect(services[role].depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        rabbitmq: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
      });
      expect(services[role].healthcheck?.test?.join(' '), role).toContain(`:${envOf(role).PORT}/readyz`);
    }
    expect(services.core.deploy?.replicas).toBeGreaterThanOrEqual(2);
    expect(services.gateway.deploy?.replicas).toBeGreaterThanOrEqual(2);
    expect(services.web.deploy?.replicas).toBeGreaterThanOrEqual(1);
  });

  it('gives Switchboard only variables it reads', () => {
    const known = knownVariables();
    for (const name of ['DATABASE_URL', 'BROKER_URL', 'BROKER_PREFIX', 'LEASE_MS', 'TELEGRAM_BOT_TOKEN', 'VK_ACCESS_TOKEN', 'MESSENGER_APP_SECRET']) expect(known).toContain(name);
    for (const service of SWITCHBOARD) {
      const unknown = Object.keys(services[service].environment ?? {}).filter((k) => !known.has(k));
      expect(unknown, `${service}: variables Switchboard does not read`).toEqual([]);
    }
    // Commented-out alternatives must be real variables too.
    const commented = [...text.matchAll(/^\s*#\s*([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]);
    expect(commented.filter((k) => !known.has(k))).toEqual([]);
  });

  it('gives every role values Switchboard accepts, and one database, broker and queue prefix', () => {
    const shared = new Set<string>();
    for (const service of SWITCHBOARD) {
      const env = envOf(service);
      const config = loadConfig(env);
      expect(config.DATABASE_URL).toMatch(/^postgres:\/\//);
      expect(config.BROKER_URL).toMatch(/^amqp:\/\//);
      shared.add(`${config.DATABASE_URL} ${config.BROKER_URL} ${config.BROKER_PREFIX} ${config.BOT_ID}`);
      expect(() => telegramConfigFromEnv(env)).not.toThrow();
      expect(() => vkConfigFromEnv(env)).not.toThrow();
      expect(() => messengerConfigFromEnv(env)).not.toThrow();
    }
    expect(shared.size).toBe(1);
    expect(telegramConfigFromEnv(envOf('gateway'))).toMatchObject({ mode: 'webhook', webhookUrl: 'https://bot.example.org/webhooks/telegram' });
    // Only the gateways run platform connectors.
    for (const service of ['migrate', 'core', 'web']) expect(telegramConfigFromEnv(envOf(service)), service).toBeNull();
  });

  it('names every variable the operator must provide in its header', () => {
    const required = [...new Set([...text.matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((m) => m[1]))];
    const header = text.slice(0, text.indexOf('\nname:'));
    for (const name of required) expect(header, name).toContain(name);
    expect(required.sort()).toEqual(Object.keys(OPERATOR).sort());
  });

  it('routes webhooks to the gateways and everything else to web', () => {
    const nginx = compose.configs?.nginx?.content ?? '';
    expect(nginx).toMatch(/location \/webhooks\/ \{[^}]*http:\/\/gateway:3000/);
    expect(nginx).toMatch(/location \/ \{[^}]*http:\/\/web:3000/);
    expect(services.proxy.ports).toEqual(['8080:80']);
  });
});
