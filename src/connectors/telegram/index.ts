/**
 * The Telegram connector: webhook or long polling in, HTML messages with inline and reply
 * keyboards, photos and files out. See docs/platforms/telegram.md.
 */
export { createTelegramConnector, TELEGRAM_CAPABILITIES, type TelegramConnector } from './connector.ts';
export { telegramConfigFromEnv, DEFAULT_TELEGRAM_API_ROOT, DEFAULT_TELEGRAM_MAX_RPS, type TelegramOptions } from './config.ts';
export { TelegramApi, TelegramApiError, TelegramNetworkError, InputFile } from './api.ts';
export { normaliseUpdate, ALLOWED_UPDATES, type Normalised } from './inbound.ts';
export { sendDelivery, toDeliveryError } from './outbound.ts';
export { MediaCache, LruMap } from './media-cache.ts';
export { SECRET_HEADER, WEBHOOK_BODY_LIMIT } from './receive.ts';
