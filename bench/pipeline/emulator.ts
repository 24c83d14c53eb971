/**
 * A fresh Telegram emulator per system under test, with the rate limits raised far above the
 * load and every benchmark chat already started, plus a probe that timestamps each sendMessage
 * the moment the emulator accepts it.
 *
 * The probe wraps the emulator's call log (`World.record`, called once per Bot API call after the
 * method ran): it is in-process, costs a string key and a `performance.now()` per reply, and needs
 * no change to the emulator. sendMessage calls are kept out of the emulator's own call log, which
 * is capped at 20,000 entries and trimmed with a splice on every call past the cap — work that
 * would land in the harness's process, not in the system measured.
 */
import { startTelegramEmulator, type CallRecord, type TelegramEmulator } from '../../emulators/telegram/index.ts';

/** Limits no system reaches: the benchmark measures the pipeline, not Telegram's flood control. */
export const RAISED_LIMITS = { overallPerSecond: 1_000_000, overallBurst: 1_000_000, perChatPerSecond: 100_000, perChatBurst: 100_000 };

/** Chat ids of the benchmark's people: private chats, id = user id. */
export const FIRST_CHAT_ID = 500_000_001;

export interface Reply {
  /** `performance.now()` when the emulator accepted the sendMessage. */
  at: number;
  /** How many times this exact reply arrived (more than 1 is a duplicate). */
  count: number;
}

export interface BenchEmulator {
  readonly emu: TelegramEmulator;
  /** Replies by `chatId:text`. */
  readonly replies: Map<string, Reply>;
  /** sendMessage calls refused by the emulator (429, 400 ...). */
  readonly refused: CallRecord[];
  /** Calls of other methods (getMe, setWebhook ...), by method name. */
  readonly otherCalls: Map<string, number>;
  /** Resolves once every key has a reply, or when `idleMs` passed without any new reply at all. */
  waitForReplies(keys: Set<string>, idleMs: number): Promise<void>;
  close(): Promise<void>;
}

export const replyKey = (chatId: number | string, text: string) => `${chatId}:${text}`;

export async function startBenchEmulator(chats: number): Promise<BenchEmulator> {
  const emu = await startTelegramEmulator({ limits: RAISED_LIMITS });
  const bot = emu.world.bot()!;
  for (let i = 0; i < chats; i++) {
    const id = FIRST_CHAT_ID + i;
    emu.world.user(id, { first_name: `Bench ${i}` });
    // A bot cannot write first on Telegram; these people "wrote" before the benchmark began.
    emu.world.chat(bot, id).started = true;
  }

  const replies = new Map<string, Reply>();
  const refused: CallRecord[] = [];
  const otherCalls = new Map<string, number>();
  let waiter: { keys: Set<string>; left: number; wake: () => void } | null = null;
  const original = emu.world.record.bind(emu.world);
  emu.world.record = (call) => {
    if (call.method.toLowerCase() !== 'sendmessage') {
      otherCalls.set(call.method, (otherCalls.get(call.method) ?? 0) + 1);
      original(call);
      return;
    }
    if (!call.ok) {
      refused.push({ ...call, seq: refused.length + 1, at: Date.now() });
      return;
    }
    const key = replyKey(String(call.params.chat_id), String(call.params.text));
    const seen = replies.get(key);
    if (seen) {
      seen.count++;
      return;
    }
    replies.set(key, { at: performance.now(), count: 1 });
    if (waiter?.keys.has(key) && --waiter.left === 0) waiter.wake();
  };

  return {
    emu,
    replies,
    refused,
    otherCalls,
    async waitForReplies(keys, idleMs) {
      let left = 0;
      for (const k of keys) if (!replies.has(k)) left++;
      if (left === 0) return;
      await new Promise<void>((resolve) => {
        let lastSize = replies.size;
        const timer = setInterval(() => {
          if (replies.size === lastSize) done();
          lastSize = replies.size;
        }, idleMs);
        const done = () => {
          clearInterval(timer);
          waiter = null;
          resolve();
        };
        waiter = { keys, left, wake: done };
      });
    },
    close: () => emu.close(),
  };
}
