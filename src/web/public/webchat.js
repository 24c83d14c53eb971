// The chat page: wires the connection, the view and the composer together.
import { ChatConnection } from './webchat-connection.js';
import { browserLanguage, strings } from './webchat-i18n.js';
import { ChatView } from './webchat-render.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const language = browserLanguage();
const t = strings(language);
const START_SENT_KEY = 'switchboard.webchat.start';

let limits = { maxTextLength: 4096, maxUploadBytes: 5 * 1024 * 1024, maxFrameBytes: 65536 };
let pendingContactButton = null;

function localise() {
  document.documentElement.lang = language.split('-')[0];
  $('chat-title').textContent = params.get('title') || t.title;
  document.title = $('chat-title').textContent;
  $('chat-input').placeholder = t.placeholder;
  $('chat-input-label').textContent = t.placeholder;
  $('chat-send').setAttribute('aria-label', t.send);
  $('chat-attach-label').title = t.attach;
  $('chat-attach-text').textContent = t.attach;
  $('chat-log').setAttribute('aria-label', t.conversation);
  $('chat-keyboard').setAttribute('aria-label', t.quickReplies);
  $('chat-contact-label').textContent = t.phoneLabel;
  $('chat-contact-send').textContent = t.share;
  $('chat-contact-cancel').textContent = t.cancel;
  $('chat-leave').textContent = t.leave;
  $('chat-ended-text').textContent = t.ended;
  $('chat-restart').textContent = t.restart;
  if (params.get('embed') === '1') document.body.classList.add('embed');
}

let errorTimer = null;
function showError(message) {
  const line = $('chat-error');
  line.textContent = message;
  line.hidden = false;
  clearTimeout(errorTimer);
  errorTimer = setTimeout(() => (line.hidden = true), 12_000);
}
function clearError() {
  $('chat-error').hidden = true;
}

const socketUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/webchat/ws`;
const connection = new ChatConnection({ url: socketUrl, language });
const view = new ChatView({ log: $('chat-log'), keyboard: $('chat-keyboard') }, t, { onButton });

/** Sends a frame and shows the person's bubble for it at once, marked pending until acked. */
const bubbles = new Map();
// Frames that were on their way when the connection dropped: if the server already had one,
// the rebuilt history shows it and the local bubble would be a second copy.
const resent = new Set();
function sendShown(frame, bubble) {
  const id = connection.send(frame);
  bubbles.set(id, bubble);
  view.addMine(id, bubble, { pending: true });
  return id;
}

function onButton(button, partId) {
  clearError();
  if (button.type === 'action') {
    sendShown({ type: 'action', payload: button.payload, messageId: partId }, { action: button.label });
  } else if (button.type === 'location') {
    if (!navigator.geolocation) return showError(t.noLocation);
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        const { latitude, longitude } = pos.coords;
        sendShown({ type: 'location', latitude, longitude }, { location: { latitude, longitude } });
      },
      () => showError(t.noLocation),
      { enableHighAccuracy: false, timeout: 15_000 },
    );
  } else if (button.type === 'contact') {
    pendingContactButton = button;
    $('chat-contact').hidden = false;
    $('chat-contact-phone').focus();
  }
}

function maybeStart(welcome) {
  const queued = connection.pending.some((f) => f.type === 'start');
  const payload = params.get('start');
  let sentKey = null;
  try {
    sentKey = sessionStorage.getItem(START_SENT_KEY);
  } catch {
    /* no session storage: a deep link may be sent again on reload, which the bot tolerates */
  }
  if (queued) return;
  if (payload && sentKey !== payload) {
    connection.send({ type: 'start', payload: payload.slice(0, 512) });
    try {
      sessionStorage.setItem(START_SENT_KEY, payload);
    } catch {
      /* see above */
    }
  } else if (welcome.fresh) {
    connection.send({ type: 'start' });
  }
}

connection.addEventListener('welcome', (e) => {
  const welcome = e.detail;
  limits = welcome.limits;
  $('chat-input').maxLength = limits.maxTextLength;
  view.reset(welcome.history);
  // A rebuilt log shows what is still on its way, too.
  for (const frame of connection.pending) {
    if (!bubbles.has(frame.id)) continue;
    view.addMine(frame.id, bubbles.get(frame.id), { pending: true });
    resent.add(frame.id);
  }
  maybeStart(welcome);
});
connection.addEventListener('message', (e) => view.addBot(e.detail.parts, e.detail.at));
connection.addEventListener('edit', (e) => view.edit(e.detail.target, e.detail.parts, e.detail.at));
connection.addEventListener('echo', (e) => view.addMine(e.detail.id, e.detail.view, { at: e.detail.at }));
connection.addEventListener('ack', (e) => {
  const { id, duplicate } = e.detail;
  bubbles.delete(id);
  if (duplicate && resent.has(id)) view.remove(id);
  else view.markSent(id);
  resent.delete(id);
});
connection.addEventListener('failed', (e) => {
  bubbles.delete(e.detail.id);
  view.markFailed(e.detail.id, e.detail.message);
  showError(e.detail.message);
});
connection.addEventListener('notice', (e) => showError(e.detail.message));
connection.addEventListener('left', () => {
  $('chat-log').replaceChildren();
  $('chat-keyboard').hidden = true;
  $('chat-composer').hidden = true;
  $('chat-contact').hidden = true;
  $('chat-leave').hidden = true;
  $('chat-ended').hidden = false;
  $('chat-status').textContent = '';
});
$('chat-leave').addEventListener('click', () => {
  if (window.confirm(t.leaveConfirm)) connection.send({ type: 'leave' });
});
$('chat-restart').addEventListener('click', () => location.reload());
connection.addEventListener('status', (e) => {
  const state = e.detail.state;
  $('chat-status').textContent = state === 'open' ? t.online : state === 'connecting' ? t.connecting : t.reconnecting;
  document.body.dataset.connection = state;
  if (state === 'open') clearError();
});

// Composer ------------------------------------------------------------------------------------

const input = $('chat-input');

function updateCounter() {
  const n = input.value.length;
  const counter = $('chat-counter');
  counter.hidden = n < limits.maxTextLength * 0.9;
  counter.textContent = `${n} / ${limits.maxTextLength}`;
  counter.classList.toggle('over', n > limits.maxTextLength);
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, 140)}px`;
}

function submitText() {
  const text = input.value;
  if (!text.trim()) return;
  if (text.length > limits.maxTextLength) return showError(t.tooLong(text.length, limits.maxTextLength));
  clearError();
  sendShown({ type: 'text', text }, { text });
  input.value = '';
  updateCounter();
}

$('chat-composer').addEventListener('submit', (e) => {
  e.preventDefault();
  submitText();
});
input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    submitText();
  }
});
input.addEventListener('input', updateCounter);

$('chat-attach').addEventListener('change', async (e) => {
  const file = e.target.files && e.target.files[0];
  e.target.value = '';
  if (!file) return;
  if (!['image/png', 'image/jpeg', 'image/gif', 'image/webp'].includes(file.type)) return showError(t.notImage);
  if (file.size > limits.maxUploadBytes) return showError(t.tooBig(Math.round(limits.maxUploadBytes / 1048576)));
  try {
    const res = await fetch('/webchat/upload', {
      method: 'POST',
      headers: { 'content-type': file.type, 'x-webchat-token': connection.token || '' },
      body: file,
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) return showError(body.message || t.uploadFailed);
    const caption = input.value.trim() ? input.value : undefined;
    const frame = { type: 'image', url: body.url };
    if (caption && caption.length <= limits.maxTextLength) {
      frame.text = caption;
      input.value = '';
      updateCounter();
    }
    clearError();
    sendShown(frame, { images: [body.url], text: frame.text });
  } catch {
    showError(t.uploadFailed);
  }
});

$('chat-contact').addEventListener('submit', (e) => {
  e.preventDefault();
  const phone = $('chat-contact-phone').value.trim();
  if (!phone || !pendingContactButton) return;
  sendShown({ type: 'contact', phone }, { contact: { phone } });
  $('chat-contact').hidden = true;
  $('chat-contact-phone').value = '';
  pendingContactButton = null;
});
$('chat-contact-cancel').addEventListener('click', () => {
  $('chat-contact').hidden = true;
  pendingContactButton = null;
});

localise();
connection.start();
