/**
 * A person at the web chat, as a WebSocket client: connects, says hello, sends frames and waits
 * for the server's frames. Used by the web chat tests and the conformance driver.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

export interface Frame {
  type: string;
  [key: string]: unknown;
}

export interface PartFrame {
  id: string;
  html?: string;
  buttons?: Array<Array<{ type: string; label: string; payload?: string; url?: string }>>;
  keyboard?: 'inline' | 'reply';
  removeKeyboard?: boolean;
  image?: { url: string; captionHtml?: string };
  file?: { url: string; name: string; captionHtml?: string };
}

/** Text of a part's HTML as the person reads it. */
export function textOf(html: string | undefined): string {
  return (html ?? '')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

export class ChatClient {
  readonly frames: Frame[] = [];
  token: string | undefined;
  visitor: string | undefined;
  #ws: WebSocket | undefined;
  #seq = 0;
  #closed: Promise<{ code: number; reason: string }> | undefined;

  constructor(token?: string) {
    this.token = token;
  }

  static newToken(): string {
    return randomBytes(24).toString('base64url');
  }

  /** Opens the socket without saying hello. */
  async open(baseUrl: string): Promise<void> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/webchat/ws`);
    this.#ws = ws;
    ws.on('message', (data) => this.frames.push(JSON.parse(String(data)) as Frame));
    this.#closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
  }

  /** Opens the socket and says hello (with the token when there is one); returns the welcome. */
  async connect(baseUrl: string, language = 'en'): Promise<Frame> {
    this.frames.length = 0;
    await this.open(baseUrl);
    this.sendRaw(JSON.stringify(this.token ? { type: 'hello', token: this.token, language } : { type: 'hello', language }));
    const welcome = await this.next((f) => f.type === 'welcome');
    this.token = welcome.token as string;
    this.visitor = welcome.visitor as string;
    return welcome;
  }

  get isOpen(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  sendRaw(data: string | Buffer, binary = false): void {
    if (!this.#ws) throw new Error('not connected');
    this.#ws.send(data, { binary });
  }

  /** Sends a frame, giving it an id when it has none; returns the id. */
  send(frame: Record<string, unknown>): string {
    const id = (frame.id as string | undefined) ?? `t${randomBytes(6).toString('hex')}${(++this.#seq).toString().padStart(4, '0')}`;
    this.sendRaw(JSON.stringify({ ...frame, id }));
    return id;
  }

  /** Sends a frame and waits for its ack (or its error, which is thrown). */
  async sendAcked(frame: Record<string, unknown>): Promise<Frame> {
    const from = this.frames.length;
    const id = this.send(frame);
    const reply = await this.next((f) => (f.type === 'ack' || f.type === 'error') && f.id === id, 20_000, from);
    if (reply.type === 'error') throw new Error(`${reply.code}: ${reply.message}`);
    return reply;
  }

  /** Waits for the first frame, seen so far or arriving, that matches (from index `from`). */
  async next(pred: (f: Frame) => boolean, timeoutMs = 20_000, from = 0): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(pred);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames).slice(0, 3000)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Waits until `n` frames match. */
  async count(pred: (f: Frame) => boolean, n: number, timeoutMs = 20_000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.filter(pred);
      if (found.length >= n) return found;
      if (Date.now() > deadline) throw new Error(`saw ${found.length} of ${n} frames; got ${JSON.stringify(this.frames).slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The bot's parts shown so far: history of the latest welcome, then pushed messages and edits. */
  parts(): PartFrame[] {
    const shown: PartFrame[] = [];
    for (const f of this.frames) {
      if (f.type === 'welcome') {
        shown.length = 0;
        for (const e of f.history as Array<{ dir: string; parts?: PartFrame[] }>) if (e.dir === 'out') upsert(shown, e.parts ?? []);
      } else if (f.type === 'message') {
        upsert(shown, f.parts as PartFrame[]);
      } else if (f.type === 'edit') {
        const at = shown.findIndex((p) => p.id === f.target);
        const parts = f.parts as PartFrame[];
        if (at >= 0) shown.splice(at, 1, ...parts);
        else upsert(shown, parts);
      }
    }
    return shown;
  }

  /** Texts of the bot's parts shown so far. */
  texts(): string[] {
    return this.parts().map((p) => textOf(p.html));
  }

  /** Closes the socket and waits until it is closed. */
  async close(): Promise<void> {
    if (!this.#ws) return;
    if (this.#ws.readyState !== WebSocket.CLOSED) this.#ws.close();
    await this.#closed;
  }

  /** Resolves with the close code and reason when the server closes the socket. */
  closed(): Promise<{ code: number; reason: string }> {
    if (!this.#closed) throw new Error('not connected');
    return this.#closed;
  }
}

function upsert(shown: PartFrame[], parts: PartFrame[]): void {
  for (const p of parts) {
    const at = shown.findIndex((s) => s.id === p.id);
    if (at >= 0) shown[at] = p;
    else shown.push(p);
  }
}
