/** A WebSocket client that speaks the web chat protocol, for tests. */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

export interface Frame {
  type: string;
  [key: string]: unknown;
}

export class WebchatClient {
  readonly frames: Frame[] = [];
  readonly token: string;
  #ws!: WebSocket;
  #seq = 0;

  constructor(token = randomBytes(24).toString('base64url')) {
    this.token = token;
  }

  async connect(baseUrl: string, language = 'en'): Promise<Frame> {
    this.#ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/webchat/ws`);
    this.#ws.on('message', (data) => this.frames.push(JSON.parse(String(data)) as Frame));
    await new Promise<void>((resolve, reject) => {
      this.#ws.once('open', () => resolve());
      this.#ws.once('error', reject);
    });
    this.sendRaw(JSON.stringify({ type: 'hello', token: this.token, language }));
    return this.next((f) => f.type === 'welcome');
  }

  sendRaw(data: string): void {
    this.#ws.send(data);
  }

  send(frame: Record<string, unknown>): string {
    const id = (frame.id as string | undefined) ?? `f${Date.now().toString(36)}${(++this.#seq).toString().padStart(6, '0')}`;
    this.sendRaw(JSON.stringify({ ...frame, id }));
    return id;
  }

  /** Waits for the first frame (seen so far or arriving) that matches. */
  async next(pred: (f: Frame) => boolean, timeoutMs = 20_000, from = 0): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(pred);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching frame; got ${JSON.stringify(this.frames).slice(0, 2000)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Texts of the `message` frames received (parts joined), in order. */
  messageTexts(): string[] {
    return this.frames
      .filter((f) => f.type === 'message')
      .map((f) => (f.parts as Array<{ html?: string }>).map((p) => (p.html ?? '').replace(/<[^>]+>/g, '')).join('\n'));
  }

  close(): void {
    this.#ws?.close();
  }
}
