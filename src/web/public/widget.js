/*
 * Switchboard web chat widget. Put one tag on any page:
 *
 *   <script src="https://chat.example.org/webchat/widget.js" async></script>
 *
 * It adds a floating chat button; the panel it opens holds the chat page of the server the
 * script came from, in a frame. The frame keeps the visitor's token in that server's storage,
 * out of reach of the host page's scripts, and the host page's styles cannot touch the chat.
 * Options, as attributes of the script tag: data-title, data-start (a start payload, as a deep
 * link carries), data-position="left", data-open (open at once).
 */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || window.__switchboardWebchat) return;
  window.__switchboardWebchat = true;

  var origin = new URL(script.src, location.href).origin;
  var lang = ((navigator.languages && navigator.languages[0]) || navigator.language || 'en').toLowerCase();
  var ru = lang.indexOf('ru') === 0;
  var words = ru ? { open: 'Открыть чат', close: 'Закрыть чат', title: 'Чат' } : { open: 'Open chat', close: 'Close chat', title: 'Chat' };
  var title = script.getAttribute('data-title') || words.title;
  var left = script.getAttribute('data-position') === 'left';
  var side = left ? 'left' : 'right';

  var css =
    ':host{all:initial}' +
    '.launcher{position:fixed;bottom:20px;' + side + ':20px;z-index:2147483000;width:58px;height:58px;border-radius:50%;border:0;cursor:pointer;' +
    'background:#1a5fd6;color:#fff;box-shadow:0 6px 20px rgba(0,0,0,.25);display:grid;place-items:center;transition:transform .15s}' +
    '.launcher:hover{transform:scale(1.06)}.launcher:focus-visible{outline:3px solid #8ab4f8;outline-offset:3px}' +
    '.panel{position:fixed;bottom:90px;' + side + ':20px;z-index:2147483000;width:min(380px,calc(100vw - 40px));height:min(600px,calc(100vh - 120px));' +
    'display:flex;flex-direction:column;background:#fff;border-radius:16px;overflow:hidden;box-shadow:0 12px 40px rgba(0,0,0,.3);' +
    'font:15px/1.3 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}' +
    '.panel[hidden]{display:none}' +
    '.bar{display:flex;align-items:center;justify-content:space-between;padding:10px 12px 10px 16px;background:#1a5fd6;color:#fff}' +
    '.bar h2{margin:0;font-size:16px;font-weight:650}' +
    '.close{border:0;background:transparent;color:#fff;width:34px;height:34px;border-radius:50%;cursor:pointer;font-size:22px;line-height:1}' +
    '.close:hover,.close:focus-visible{background:rgba(255,255,255,.18);outline:none}' +
    'iframe{flex:1;width:100%;border:0;background:#f4f5f7}' +
    '@media (max-width:520px){.panel{inset:0;width:100vw;height:100vh;height:100dvh;border-radius:0;bottom:0;' + side + ':0}}';

  var host = document.createElement('div');
  host.setAttribute('data-switchboard-webchat', '');
  var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
  var style = document.createElement('style');
  style.textContent = css;

  var launcher = document.createElement('button');
  launcher.className = 'launcher';
  launcher.type = 'button';
  launcher.setAttribute('aria-label', words.open);
  launcher.setAttribute('aria-expanded', 'false');
  launcher.setAttribute('aria-controls', 'switchboard-webchat-panel');
  launcher.innerHTML =
    '<svg aria-hidden="true" viewBox="0 0 24 24" width="28" height="28"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';

  var panel = document.createElement('section');
  panel.className = 'panel';
  panel.id = 'switchboard-webchat-panel';
  panel.hidden = true;
  panel.setAttribute('role', 'dialog');
  panel.setAttribute('aria-label', title);

  var bar = document.createElement('div');
  bar.className = 'bar';
  var heading = document.createElement('h2');
  heading.textContent = title;
  var close = document.createElement('button');
  close.className = 'close';
  close.type = 'button';
  close.setAttribute('aria-label', words.close);
  close.textContent = '×';
  bar.appendChild(heading);
  bar.appendChild(close);
  panel.appendChild(bar);

  var frame = null;
  function chatUrl() {
    var url = new URL('/', origin);
    url.searchParams.set('embed', '1');
    url.searchParams.set('title', title);
    var start = script.getAttribute('data-start');
    if (start) url.searchParams.set('start', start);
    return url.href;
  }

  function open() {
    if (!frame) {
      // Created on first open: a page with the widget costs nothing until someone chats.
      frame = document.createElement('iframe');
      frame.title = title;
      frame.src = chatUrl();
      frame.setAttribute('allow', 'geolocation');
      panel.appendChild(frame);
    }
    panel.hidden = false;
    launcher.setAttribute('aria-expanded', 'true');
    launcher.setAttribute('aria-label', words.close);
    frame.focus();
  }

  function hide() {
    panel.hidden = true;
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-label', words.open);
    launcher.focus();
  }

  launcher.addEventListener('click', function () {
    if (panel.hidden) open();
    else hide();
  });
  close.addEventListener('click', hide);
  panel.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') hide();
  });

  root.appendChild(style);
  root.appendChild(panel);
  root.appendChild(launcher);

  function mount() {
    document.body.appendChild(host);
    if (script.hasAttribute('data-open')) open();
  }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
