/**
 * Structured logs (pino). Anything that could carry a secret is redacted by path, and tokens in
 * URLs are masked by the connectors before they log.
 */
import pino, { type Logger } from 'pino';

export const REDACT_PATHS = [
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.secret',
  '*.appSecret',
  '*.password',
  '*.authorization',
  'headers.authorization',
  'headers["x-telegram-bot-api-secret-token"]',
  'headers["x-hub-signature-256"]',
  'req.headers.authorization',
  'req.headers["x-telegram-bot-api-secret-token"]',
  'req.headers["x-hub-signature-256"]',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } }, destination);
}

/** Masks a secret-bearing string (e.g. a Telegram token inside a URL). */
export function maskSecret(text: string, secret: string | undefined): string {
  return secret ? text.split(secret).join('***') : text;
}
