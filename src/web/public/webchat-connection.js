// The chat's WebSocket: says hello with the visitor token, reconnects with back-off, and sends
// what the person does one frame at a time, each waiting for its ack (so the order is kept and
// a frame resent after a reconnect carries the same id, which the server stores only once).

const TOKEN_KEY = 'switchboard.webchat.token';
const RETRIABLE = new Set(['rate-limited', 'unavailable']);

/** localStorage when the browser allows it (it may not in a third-party frame), else memory. */
function tokenStore() {
  let memory = null;
  return {
    get() {
      try {
        return window.localStorage.getItem(TOKEN_KEY) || memory;
      } catch {
        return memory;
      }
    },
    clear() {
      memory = null;
      try {
        window.localStorage.removeItem(TOKEN_KEY);
      } catch {
        /* nothing stored */
      }
    },
    set(token) {
      memory = token;
      try {
        window.localStorage.setItem(TOKEN_KEY, token);
      } catch {
        /* kept in memory only: a reload starts a new visitor */
      }
    },
  };
}

/** A random frame id: 16 URL-safe characters. */
export function newId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * Events (all CustomEvent, data in `detail`): `status` ({state: 'connecting'|'open'|'offline'}),
 * `welcome`, `message`, `edit`, `echo` (server frames), `ack` ({id, duplicate}),
 * `failed` ({id, code, message}) for a frame the server refused, `notice` ({code, message, retrying}),
 * `left` when the visitor ended the chat.
 */
export class ChatConnection extends EventTarget {
  #url;
  #language;
  #ws = null;
  #queue = [];
  #inFlight = null;
  #welcomed = false;
  #attempt = 0;
  #retryTimer = null;
  #tokens = tokenStore();
  #stopped = false;

  constructor({ url, language }) {
    super();
    this.#url = url;
    this.#language = language;
  }

  get token() {
    return this.#tokens.get();
  }

  /** Frames sent but not yet acknowledged, oldest first. */
  get pending() {
    return [...this.#queue];
  }

  start() {
    this.#stopped = false;
    this.#connect();
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    if (this.#ws) this.#ws.close(1000, 'bye');
  }

  /** Queues a frame the person sent (gives it an id when it has none); returns its id. */
  send(frame) {
    const withId = { ...frame, id: frame.id || newId() };
    this.#queue.push(withId);
    this.#flush();
    return withId.id;
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #connect() {
    clearTimeout(this.#retryTimer);
    this.#welcomed = false;
    this.#inFlight = null;
    this.#emit('status', { state: this.#attempt === 0 ? 'connecting' : 'offline' });
    let ws;
    try {
      ws = new WebSocket(this.#url);
    } catch {
      return this.#scheduleReconnect();
    }
    this.#ws = ws;
    ws.addEventListener('open', () => {
      const hello = { type: 'hello', v: 1, language: this.#language };
      const token = this.#tokens.get();
      if (token) hello.token = token;
      ws.send(JSON.stringify(hello));
    });
    ws.addEventListener('message', (e) => {
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      this.#onFrame(frame);
    });
    ws.addEventListener('close', () => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#welcomed = false;
      this.#inFlight = null;
      if (!this.#stopped) this.#scheduleReconnect();
    });
  }

  #scheduleReconnect() {
    this.#attempt += 1;
    this.#emit('status', { state: 'offline' });
    // 0.5 s, 1 s, 2 s … capped at 30 s, with jitter so many tabs do not return at once.
    const base = Math.min(30_000, 500 * 2 ** Math.min(this.#attempt - 1, 6));
    const delay = base / 2 + Math.random() * (base / 2);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #onFrame(frame) {
    switch (frame.type) {
      case 'welcome':
        this.#tokens.set(frame.token);
        this.#welcomed = true;
        this.#attempt = 0;
        this.#emit('status', { state: 'open' });
        this.#emit('welcome', frame);
        this.#flush();
        return;
      case 'ack':
        if (this.#queue[0] && this.#queue[0].id === frame.id) {
          this.#queue.shift();
          this.#inFlight = null;
        }
        this.#emit('ack', frame);
        this.#flush();
        return;
      case 'error':
        return this.#onError(frame);
      case 'left':
        // The visitor ended the chat (here or in another tab): forget them on this device.
        this.#tokens.clear();
        this.#queue = [];
        this.stop();
        this.#emit('left', frame);
        return;
      case 'message':
      case 'edit':
      case 'echo':
        this.#emit(frame.type, frame);
        return;
      default:
        return;
    }
  }

  #onError(frame) {
    const head = this.#queue[0];
    // An error without an id (a frame too large to read) concerns the frame in flight.
    const concernsHead = head && this.#inFlight === head.id && (!frame.id || frame.id === head.id);
    if (!concernsHead) {
      this.#emit('notice', { code: frame.code, message: frame.message, retrying: false });
      return;
    }
    if (RETRIABLE.has(frame.code)) {
      this.#emit('notice', { code: frame.code, message: frame.message, retrying: true });
      const wait = Math.max(500, Number(frame.retryAfterMs) || 2000);
      setTimeout(() => {
        if (this.#inFlight === head.id) this.#inFlight = null;
        this.#flush();
      }, wait);
      return;
    }
    this.#queue.shift();
    this.#inFlight = null;
    this.#emit('failed', { id: head.id, code: frame.code, message: frame.message });
    this.#flush();
  }

  #flush() {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || !this.#welcomed || this.#inFlight || !this.#queue.length) return;
    const head = this.#queue[0];
    this.#inFlight = head.id;
    ws.send(JSON.stringify(head));
  }
}
