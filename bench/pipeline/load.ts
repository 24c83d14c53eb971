/**
 * The load generator: posts Telegram updates to a bot's webhook the way Telegram does (JSON body,
 * `X-Telegram-Bot-Api-Secret-Token`, a non-2xx answer retried), keeping a fixed number of
 * requests in flight over keep-alive connections. Updates go round-robin over the chats, so with
 * more chats than requests in flight a chat never has two updates in flight at once — as with
 * Telegram, which pushes one update per chat at a time.
 */
import http from 'node:http';
import type { Update } from '@grammyjs/types';
import { FIRST_CHAT_ID, replyKey } from './emulator.ts';

export interface Webhook {
  url: string;
  secret: string;
}

export interface LoadPlan {
  /** Texts are `${prefix}${i}`: unique within a run, so each reply matches one update. */
  prefix: string;
  count: number;
  chats: number;
  concurrency: number;
  /** First update_id; each phase of a run takes its own range. */
  firstUpdateId: number;
  /**
   * Updates per second to offer (open loop: update i goes at i / rate s, still with at most
   * `concurrency` in flight); unset: as fast as the webhook answers.
   */
  rate?: number;
}

export interface LoadResult {
  /** `performance.now()` before each update's request, by reply key (`chatId:text`). */
  sentAt: Map<string, number>;
  /** When the first request went out and when the last one was answered. */
  firstSent: number;
  lastAnswered: number;
  /** Non-2xx answers and network errors (each was retried). */
  retries: number;
  /** Updates given up on after `MAX_TRIES`. */
  failed: number;
  /** The first few error descriptions, for the report. */
  errors: string[];
}

const MAX_TRIES = 5;

/** The update a person's text message produces on Telegram. */
export function textUpdate(updateId: number, chatId: number, text: string): Update {
  const from = { id: chatId, is_bot: false, first_name: `Bench ${chatId - FIRST_CHAT_ID}`, language_code: 'en' };
  return {
    update_id: updateId,
    message: { message_id: updateId, from, chat: { id: chatId, type: 'private', first_name: from.first_name }, date: Math.floor(Date.now() / 1000), text },
  } as Update;
}

function post(agent: http.Agent, url: URL, secret: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-telegram-bot-api-secret-token': secret },
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('webhook request timed out after 30 s')));
    req.once('error', reject);
    req.end(body);
  });
}

/** Sends `plan.count` updates with `plan.concurrency` in flight; resolves when all were answered 2xx (or given up). */
export async function sendLoad(target: Webhook, plan: LoadPlan): Promise<LoadResult> {
  const url = new URL(target.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: plan.concurrency });
  const sentAt = new Map<string, number>();
  const result: LoadResult = { sentAt, firstSent: 0, lastAnswered: 0, retries: 0, failed: 0, errors: [] };
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    while (next < plan.count) {
      const i = next++;
      if (plan.rate) {
        const due = start + (i * 1000) / plan.rate;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      }
      const chatId = FIRST_CHAT_ID + (i % plan.chats);
      const text = `${plan.prefix}${i}`;
      const body = JSON.stringify(textUpdate(plan.firstUpdateId + i, chatId, text));
      for (let attempt = 1; ; attempt++) {
        const started = performance.now();
        // Latency counts from the first attempt: a retried update was late from the person's view.
        if (attempt === 1) {
          sentAt.set(replyKey(chatId, text), started);
          if (i === 0) result.firstSent = started;
        }
        let problem: string | null = null;
        try {
          const status = await post(agent, url, target.secret, body);
          if (status < 200 || status > 299) problem = `HTTP ${status}`;
        } catch (err: unknown) {
          problem = err instanceof Error ? err.message : String(err);
        }
        if (problem === null) break;
        if (result.errors.length < 5) result.errors.push(`update ${plan.firstUpdateId + i}: ${problem}`);
        if (attempt >= MAX_TRIES) {
          result.failed++;
          break;
        }
        result.retries++;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
      result.lastAnswered = performance.now();
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
  agent.destroy();
  return result;
}
