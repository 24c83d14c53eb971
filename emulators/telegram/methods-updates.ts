/**
 * Receiving updates: getMe, getUpdates (long poll with offset confirmation; 409 while a webhook is
 * set or when a second poller arrives) and the webhook methods.
 */
import type { Update, WebhookInfo } from '@grammyjs/types';
import { errors } from './limits.ts';
import { optionalBool, optionalInt, optionalJson, optionalString } from './params.ts';
import type { MethodContext, MethodTable } from './bot-api.ts';
import type { BotState } from './state.ts';

const SECRET_RE = /^[A-Za-z0-9_-]{1,256}$/;

function setAllowedUpdates(bot: BotState, value: unknown): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw errors.badRequest("can't parse allowed_updates JSON array");
  bot.allowedUpdates = value;
}

/** Forgets updates before `offset` (a positive offset confirms; a negative keeps the last -offset). */
function confirm(bot: BotState, offset: number): void {
  if (offset > 0) bot.updates = bot.updates.filter((u) => u.update_id >= offset);
  else if (offset < 0) bot.updates = bot.updates.slice(offset);
}

function getUpdates(ctx: MethodContext): Promise<Update[]> | Update[] {
  const { bot, params } = ctx;
  if (bot.webhook) throw errors.webhookActive();
  const offset = optionalInt(params, 'offset');
  const limit = Math.min(100, Math.max(1, optionalInt(params, 'limit') ?? 100));
  const timeout = Math.min(ctx.runtime.maxPollSeconds, Math.max(0, optionalInt(params, 'timeout') ?? 0));
  setAllowedUpdates(bot, optionalJson(params, 'allowed_updates'));
  if (offset !== undefined) confirm(bot, offset);
  // Only one getUpdates may wait: a newer request terminates the older one, as on Telegram.
  bot.poller?.conflict(errors.otherPoller());
  const take = () => bot.updates.slice(0, limit);
  if (bot.updates.length > 0 || timeout === 0 || ctx.runtime.closing) return take();
  return new Promise<Update[]>((resolve, reject) => {
    const finish = () => {
      clearTimeout(timer);
      if (bot.poller === waiter) bot.poller = null;
    };
    const waiter = {
      deliver: () => (finish(), resolve(take())),
      conflict: (err: Error) => (finish(), reject(err)),
    };
    const timer = setTimeout(waiter.deliver, timeout * 1000);
    bot.poller = waiter;
    // A client that went away must not keep the slot: the next poll is not a second poller.
    ctx.onClientGone(() => (finish(), resolve([])));
  });
}

async function setWebhook(ctx: MethodContext): Promise<true> {
  const { bot, params } = ctx;
  const url = optionalString(params, 'url') ?? '';
  if (url === '') return deleteWebhook(ctx);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw errors.badRequest('bad webhook: invalid webhook URL specified');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw errors.badRequest('bad webhook: An HTTPS URL must be provided for webhook');
  const secret = optionalString(params, 'secret_token');
  if (secret !== undefined && secret !== '' && !SECRET_RE.test(secret)) throw errors.badRequest('secret token contains unallowed characters');
  const maxConnections = optionalInt(params, 'max_connections') ?? 40;
  if (maxConnections < 1 || maxConnections > 100) throw errors.badRequest('bad webhook: max_connections must be between 1 and 100');
  setAllowedUpdates(bot, optionalJson(params, 'allowed_updates'));
  if (optionalBool(params, 'drop_pending_updates')) bot.updates = [];
  await ctx.runtime.stopPusher(bot);
  bot.webhook = { url, secret: secret || undefined, maxConnections };
  bot.poller?.conflict(errors.webhookActive());
  ctx.runtime.startPusher(bot);
  return true;
}

async function deleteWebhook(ctx: MethodContext): Promise<true> {
  const { bot, params } = ctx;
  await ctx.runtime.stopPusher(bot);
  bot.webhook = null;
  if (optionalBool(params, 'drop_pending_updates')) bot.updates = [];
  return true;
}

function getWebhookInfo({ bot }: MethodContext): WebhookInfo {
  const w = bot.webhook;
  return {
    url: w?.url ?? '',
    has_custom_certificate: false,
    pending_update_count: bot.updates.length,
    ...(w ? { max_connections: w.maxConnections } : {}),
    ...(w?.lastErrorDate ? { last_error_date: w.lastErrorDate, last_error_message: w.lastErrorMessage } : {}),
    ...(bot.allowedUpdates ? { allowed_updates: bot.allowedUpdates } : {}),
  } as WebhookInfo;
}

export const updateMethods: MethodTable = {
  getme: ({ bot }) => bot.user,
  getupdates: getUpdates,
  setwebhook: setWebhook,
  deletewebhook: deleteWebhook,
  getwebhookinfo: getWebhookInfo,
  logout: () => true,
  close: () => true,
};
