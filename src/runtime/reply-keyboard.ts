/**
 * Reply keyboards across replicas and restarts. Some platforms (Telegram) deliver a pressed
 * reply-keyboard button as its label in plain text, with no payload. The gateway records the
 * keyboard a message shows in the conversation's row before it sends the message; core turns a
 * text equal to one of its labels back into the button's action.
 */
import type { RenderPlan } from '../core/render.ts';

/** An action button of a reply keyboard: pressing it sends `label` as text on Telegram. */
export interface ReplyButton {
  label: string;
  payload: string;
}

/**
 * What sending `plan` does to the conversation's reply keyboard: its action buttons when it shows
 * a reply keyboard, null when it removes the keyboard, undefined when it leaves it as it is.
 */
export function replyKeyboardOf(plan: RenderPlan): ReplyButton[] | null | undefined {
  let result: ReplyButton[] | null | undefined;
  for (const part of plan.parts) {
    if (part.keyboard === 'reply' && part.buttons?.length) {
      result = part.buttons.flat().flatMap((b) => (b.type === 'action' ? [{ label: b.label, payload: b.payload }] : []));
    } else if (part.removeKeyboard) {
      result = null;
    }
  }
  return result;
}

/** The stored form of a keyboard (`conversations.reply_keyboard`); null for none. */
export const storedKeyboard = (buttons: ReplyButton[] | null): string | null => (buttons?.length ? JSON.stringify(buttons) : null);

/** The action of the reply-keyboard button whose label is exactly `text`, if any. */
export function pressedButton(text: string, stored: string | null): string | undefined {
  if (!stored) return undefined;
  return (JSON.parse(stored) as ReplyButton[]).find((b) => b.label === text)?.payload;
}
