// Draws the conversation: the bot's parts (sanitised HTML, images, files, buttons), the
// person's own bubbles, and the reply keyboard above the composer.

const SAFE_HREF = /^(https?:|mailto:|tel:|\/(?!\/))/i;

/**
 * The server sends only <b>, <i> and <a href>; this rebuilds exactly those from the HTML and
 * turns anything else into text, so a bug upstream can never become script on the page.
 */
export function safeFragment(html) {
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html');
  const out = document.createDocumentFragment();
  const copy = (from, to) => {
    for (const node of from.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) {
        to.append(node.textContent);
      } else if (node.nodeType === Node.ELEMENT_NODE) {
        const tag = node.tagName.toLowerCase();
        let el = null;
        if (tag === 'b' || tag === 'strong') el = document.createElement('b');
        else if (tag === 'i' || tag === 'em') el = document.createElement('i');
        else if (tag === 'a' && SAFE_HREF.test(node.getAttribute('href') || '')) {
          el = document.createElement('a');
          el.href = node.getAttribute('href');
          el.target = '_blank';
          el.rel = 'noopener noreferrer';
        }
        if (el) {
          copy(node, el);
          to.append(el);
        } else {
          copy(node, to);
        }
      }
    }
  };
  copy(doc.body, out);
  return out;
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function timeLabel(at) {
  try {
    return new Date(at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
  } catch {
    return '';
  }
}

export class ChatView {
  #log;
  #keyboard;
  #t;
  #handlers;
  #pinned = true;

  /**
   * @param {{log: HTMLElement, keyboard: HTMLElement}} elements
   * @param {object} t  the page's strings
   * @param {{onButton: (button: object, partId: string) => void}} handlers
   */
  constructor(elements, t, handlers) {
    this.#log = elements.log;
    this.#keyboard = elements.keyboard;
    this.#t = t;
    this.#handlers = handlers;
    // Stay at the newest message while the person is there, also when the log changes size
    // (a keyboard or the contact form appears, an image finishes loading); leave them alone
    // when they scrolled up to read.
    this.#log.addEventListener('scroll', () => (this.#pinned = this.#nearBottom()), { passive: true });
    if (typeof ResizeObserver === 'function') new ResizeObserver(() => this.#follow()).observe(this.#log);
    this.#log.addEventListener('load', () => this.#follow(), true);
  }

  /** Rebuilds the whole conversation from a welcome's history. */
  reset(history) {
    this.#log.replaceChildren();
    this.#setKeyboard(null);
    for (const entry of history) {
      if (entry.dir === 'out') this.addBot(entry.parts, entry.at);
      else this.addMine(entry.id, entry.view, { at: entry.at });
    }
    this.#pinned = true;
    this.#follow();
  }

  /** Appends the bot's parts, or replaces parts already shown with the same ids (a resend). */
  addBot(parts, at) {
    for (const part of parts) {
      const node = this.#part(part, at);
      const existing = this.#find(part.id);
      if (existing) existing.replaceWith(node);
      else this.#log.append(node);
      this.#applyKeyboard(part);
    }
    this.#follow();
  }

  /** Replaces an earlier part (an edit) with the new parts, in place. */
  edit(target, parts, at) {
    const existing = this.#find(target);
    if (!existing) return this.addBot(parts, at);
    const nodes = parts.map((p) => this.#part(p, at));
    existing.replaceWith(...nodes);
    for (const p of parts) this.#applyKeyboard(p);
    this.#follow();
  }

  /** The person's own bubble. `pending` until the server acknowledged it. */
  addMine(id, view, { pending = false, at = Date.now() } = {}) {
    if (this.#find(id)) return;
    const bubble = el('div', 'msg me');
    bubble.dataset.id = id;
    if (pending) bubble.classList.add('pending');
    if (view.action) {
      bubble.classList.add('action');
      bubble.textContent = view.action;
    }
    for (const url of view.images || []) {
      const img = el('img');
      img.src = url;
      img.alt = this.#t.image;
      bubble.append(img);
    }
    if (view.text) bubble.append(view.images && view.images.length ? el('div', 'caption', view.text) : view.text);
    if (view.location) bubble.append(this.#t.location(view.location.latitude, view.location.longitude));
    if (view.contact) bubble.append(`📞 ${view.contact.phone}`);
    bubble.title = timeLabel(at);
    this.#log.append(bubble);
    // What the person just sent brings them to the end of the conversation.
    if (pending) this.#pinned = true;
    this.#follow();
  }

  markSent(id) {
    const bubble = this.#find(id);
    if (bubble) bubble.classList.remove('pending');
  }

  remove(id) {
    const bubble = this.#find(id);
    if (bubble) bubble.remove();
  }

  markFailed(id, message) {
    const bubble = this.#find(id);
    if (!bubble) return;
    bubble.classList.remove('pending');
    bubble.classList.add('failed');
    bubble.append(el('span', 'failed-note', `${this.#t.notSent}: ${message}`));
  }

  #find(id) {
    return [...this.#log.children].find((c) => c.dataset.id === id) || null;
  }

  #part(part, at) {
    const bubble = el('div', 'msg bot');
    bubble.dataset.id = part.id;
    bubble.title = timeLabel(at);
    if (part.image) {
      const link = el('a');
      link.href = part.image.url;
      link.target = '_blank';
      link.rel = 'noopener noreferrer';
      const img = el('img');
      img.src = part.image.url;
      img.alt = part.image.captionHtml ? safeFragment(part.image.captionHtml).textContent : this.#t.image;
      img.loading = 'lazy';
      link.append(img);
      bubble.append(link);
      if (part.image.captionHtml) bubble.append(this.#captioned(part.image.captionHtml));
    }
    if (part.file) {
      const link = el('a', 'file', `📎 ${part.file.name}`);
      link.href = part.file.url;
      link.download = part.file.name;
      bubble.append(link);
      if (part.file.captionHtml) bubble.append(this.#captioned(part.file.captionHtml));
    }
    if (part.html) bubble.append(safeFragment(part.html));
    if (part.buttons && part.keyboard !== 'reply') bubble.append(this.#buttons(part.buttons, part.id));
    return bubble;
  }

  #captioned(html) {
    const div = el('div', 'caption');
    div.append(safeFragment(html));
    return div;
  }

  #buttons(rows, partId) {
    const box = el('div', 'buttons');
    box.setAttribute('role', 'group');
    for (const row of rows) {
      const line = el('div', 'row');
      for (const b of row) line.append(this.#button(b, partId));
      box.append(line);
    }
    return box;
  }

  #button(b, partId) {
    if (b.type === 'url') {
      const a = el('a', 'btn', b.label);
      a.href = b.url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      return a;
    }
    const button = el('button', 'btn', b.label);
    button.type = 'button';
    button.addEventListener('click', () => this.#handlers.onButton(b, partId));
    return button;
  }

  #applyKeyboard(part) {
    if (part.buttons && part.keyboard === 'reply') this.#setKeyboard(part);
    else if (part.removeKeyboard) this.#setKeyboard(null);
  }

  #setKeyboard(part) {
    if (!part) {
      this.#keyboard.replaceChildren();
      this.#keyboard.hidden = true;
      this.#follow();
      return;
    }
    this.#keyboard.replaceChildren(...part.buttons.map((row) => {
      const line = el('div', 'row');
      for (const b of row) line.append(this.#button(b, part.id));
      return line;
    }));
    this.#keyboard.hidden = false;
    this.#follow();
  }

  #nearBottom() {
    const log = this.#log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  /** Keeps the newest message in view when the person is at the end of the conversation. */
  #follow() {
    if (this.#pinned) this.#log.scrollTop = this.#log.scrollHeight;
  }
}
