/**
 * What the conformance suite needs from each platform: start its emulator, build the connector
 * in a given receive mode, and act as a person through the emulator's user-side API. The same
 * scenarios (start, buttons, the demo dialog, a photo, contact, location, blocking the bot) run
 * against every driver and mode.
 */
import type { Connector } from '../../src/connectors/connector.ts';

/** A message the bot sent, as the person sees it. */
export interface SeenMessage {
  /** Platform message id. */
  id: string;
  /** Text as shown (markup stripped). */
  text: string;
  /** Labels of the buttons shown with it (inline or reply keyboard), row by row. */
  buttons: string[][];
  /** True when it carried an image. */
  image?: boolean;
}

export interface PersonHandle {
  /** Opens the bot as a new person does (Telegram /start, VK Start button, Get Started, ...). */
  start(): Promise<void>;
  sendText(text: string): Promise<void>;
  sendPhoto(png: Buffer): Promise<void>;
  /** Shares the person's own phone number (skipped where the platform has no contact sharing). */
  sendContact?(phone: string): Promise<void>;
  sendLocation?(latitude: number, longitude: number): Promise<void>;
  /** Presses the button with this label on the latest bot message that shows it. */
  pressButton(label: string): Promise<void>;
  /** Blocks the bot / denies messages. */
  block(): Promise<void>;
  /** Everything the bot sent to this person so far, oldest first. */
  messages(): Promise<SeenMessage[]>;
}

export interface DriverSetup {
  connector: Connector;
  person(id: string): PersonHandle;
  /** Called after the Switchboard web server listens, with its base URL (to point webhooks at it). */
  attach?(baseUrl: string): Promise<void>;
  close(): Promise<void>;
}

export interface PlatformDriver {
  platform: string;
  /** Receive modes this platform supports, e.g. ['webhook', 'polling']. */
  modes: string[];
  setup(mode: string): Promise<DriverSetup>;
}
