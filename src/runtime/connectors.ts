/**
 * Builds the connectors the environment configures. The web chat is on unless WEBCHAT_ENABLED is
 * false; each platform connector is on when its token variable is set.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, type Config, type Role } from '../config/config.ts';
import type { Connector } from '../connectors/connector.ts';
import { createMessengerConnector, messengerConfigFromEnv } from '../connectors/messenger/index.ts';
import { createTelegramConnector, telegramConfigFromEnv } from '../connectors/telegram/index.ts';
import { createVkConnector, vkConfigFromEnv } from '../connectors/vk/index.ts';
import { createWebchatConnector, directoryFiles, withOlderFiles, type HistoryItem, type OutboundItem, type WebchatFileStore } from '../connectors/webchat/index.ts';
import type { Store } from '../storage/database.ts';
import { fileRefsIn } from '../storage/repositories/file-refs.ts';
import { recentMessages } from '../storage/repositories/messages.ts';
import { webchatFilesIn } from '../storage/repositories/webchat-files.ts';

export function buildConnectors(env: Record<string, string | undefined>, config: Config, store: Store, log: Logger, roles: Set<Role>): Connector[] {
  const out: Connector[] = [];
  void roles;
  const problems: string[] = [];
  // Each platform reads its own variables; an error names the variable and never its value.
  const read = <T>(fn: () => T | null): T | null => {
    try {
      return fn();
    } catch (err: unknown) {
      problems.push(err instanceof Error ? err.message : String(err));
      return null;
    }
  };
  const telegram = read(() => telegramConfigFromEnv(env as NodeJS.ProcessEnv, { bot: config.BOT_ID }));
  const vk = read(() => vkConfigFromEnv(env as NodeJS.ProcessEnv));
  const messenger = read(() => messengerConfigFromEnv(env as NodeJS.ProcessEnv));
  if (problems.length) throw new ConfigError(problems);
  if (telegram) out.push(read(() => createTelegramConnector({ ...telegram, bot: config.BOT_ID, fileRefs: fileRefsIn(store.db, 'telegram', config.BOT_ID), log: log.child({ platform: 'telegram' }) }))!);
  if (vk) out.push(read(() => createVkConnector({ ...vk, bot: config.BOT_ID, log: log.child({ platform: 'vk' }) }))!);
  if (messenger) out.push(read(() => createMessengerConnector({ ...messenger, bot: config.BOT_ID, log: log.child({ platform: 'messenger' }) }))!);
  if (problems.length) throw new ConfigError(problems);
  if (config.WEBCHAT_ENABLED) {
    out.push(
      createWebchatConnector({
        bot: config.BOT_ID,
        maxTextLength: config.WEBCHAT_MAX_TEXT,
        files: webchatFiles(store, config),
        history: (chatId) => webchatHistory(store, config.BOT_ID, chatId),
        outbound: (id) => webchatOutbound(store, config.BOT_ID, id),
        log: log.child({ platform: 'webchat' }),
      }),
    );
  }
  return out;
}

/**
 * The web chat's files are in the database; those an older version kept in `DATA_DIR/uploads`
 * are still served from there when that directory exists.
 */
function webchatFiles(store: Store, config: Config): WebchatFileStore {
  const older = path.resolve(config.DATA_DIR, 'uploads');
  return fs.existsSync(older) ? withOlderFiles(webchatFilesIn(store.db), directoryFiles(older)) : webchatFilesIn(store.db);
}

async function webchatHistory(store: Store, bot: string, chatId: string): Promise<HistoryItem[]> {
  const conv = await store.db
    .selectFrom('conversations')
    .select('id')
    .where('bot', '=', bot)
    .where('platform', '=', 'webchat')
    .where('chat_id', '=', chatId)
    .executeTakeFirst();
  if (!conv) return [];
  const rows = await recentMessages(store.db, conv.id, 100);
  return rows
    // A failed outbound message never reached the visitor; what the visitor wrote always stays.
    .filter((r) => r.direction === 'in' || r.status !== 'failed')
    .map((r) => {
      const content = JSON.parse(r.content);
      return r.direction === 'in'
        ? { id: r.id, direction: 'in' as const, at: r.created_at, event: content }
        : { id: r.id, direction: 'out' as const, at: r.created_at, message: content, editOf: r.edit_of ?? undefined };
    });
}

/** One outbound web chat message of this bot, for a web replica that did not send it. */
async function webchatOutbound(store: Store, bot: string, id: number): Promise<OutboundItem | undefined> {
  const row = await store.db
    .selectFrom('messages as m')
    .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
    .leftJoin('messages as e', 'e.id', 'm.edit_of')
    .select(['c.chat_id as chatId', 'm.content as content', 'e.platform_message_id as editTarget'])
    .where('m.id', '=', id)
    .where('m.direction', '=', 'out')
    .where('c.bot', '=', bot)
    .where('c.platform', '=', 'webchat')
    .executeTakeFirst();
  if (!row) return undefined;
  const message = JSON.parse(row.content) as OutboundItem['message'];
  return row.editTarget ? { chatId: row.chatId, message, editTarget: row.editTarget } : { chatId: row.chatId, message };
}
