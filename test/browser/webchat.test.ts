/**
 * The web chat in a real browser (Debian's chromium through playwright-core) against the whole
 * system running the demo bot: the page greets, a button click gets its reply, a reload shows
 * the history, an image upload is answered, and the widget works on another site's page.
 * Skipped when no chromium is installed (set CHROMIUM_PATH to use another binary).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoBot } from '../../src/bot/demo.ts';
import { startSwitchboard, type Switchboard } from '../../src/runtime/switchboard.ts';
import { PNG_1PX, startHarness } from '../webchat/harness.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`skipping browser tests: no chromium at ${CHROMIUM}`);

let sb: Switchboard;
let browser: Browser;
let dir: string;
let host: http.Server;
let hostUrl: string;

beforeAll(async () => {
  if (!haveChromium) return;
  dir = await mkdtemp(path.join(tmpdir(), 'webchat-browser-'));
  sb = await startSwitchboard({
    env: { PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`, DATA_DIR: dir, LOG_LEVEL: 'silent' },
    bot: createDemoBot(),
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  // Another site that embeds the widget with one script tag.
  host = http.createServer((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html><head><title>Host site</title></head><body style="font-family:serif">
      <h1>A conference site</h1><p>Questions? Use the chat button.</p>
      <script src="${sb.url}/webchat/widget.js" data-title="Ask us" async></script></body></html>`);
  });
  await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
  hostUrl = `http://127.0.0.1:${(host.address() as AddressInfo).port}/`;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (host ? host.close(resolve) : resolve(undefined)));
  await sb?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Texts of the bot's bubbles on the page. */
const botBubbles = (page: Page) => page.locator('.msg.bot').allInnerTexts();

/** Submits messages from the composer in one go, faster than anyone types. */
const typeAtOnce = (page: Page, words: string[]) =>
  page.evaluate((list) => {
    const input = document.getElementById('chat-input') as HTMLTextAreaElement;
    const form = document.getElementById('chat-composer') as HTMLFormElement;
    for (const w of list) {
      input.value = w;
      form.requestSubmit();
    }
  }, words);

describe.skipIf(!haveChromium)('web chat in a browser', () => {
  it('greets, answers a button click, remembers the visitor across a reload', { timeout: 120_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 420, height: 760 }, locale: 'en-GB' });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('console', (msg) => msg.type() === 'error' && problems.push(msg.text()));
    page.on('response', (res) => res.status() >= 400 && problems.push(`${res.status()} ${res.url()}`));

    await page.goto(sb.url! + '/');
    const greeting = page.locator('.msg.bot').first();
    await expect.poll(() => greeting.innerText(), { timeout: 20_000 }).toContain('Switchboard demo bot');
    // Formatting arrives as markup, not as tags in the text.
    await expect.poll(() => greeting.locator('b').innerText()).toBe('Switchboard');

    await page.getByRole('button', { name: 'Tell me about yourself' }).click();
    await expect.poll(() => botBubbles(page), { timeout: 20_000 }).toContain('What is your name?');
    await expect.poll(() => page.locator('.msg.me.action').innerText()).toBe('Tell me about yourself');

    await page.getByRole('textbox').fill('Ada');
    await page.keyboard.press('Enter');
    await expect.poll(() => botBubbles(page), { timeout: 20_000 }).toContain('Nice to meet you, Ada! Which city are you from?');

    await page.screenshot({ path: '/tmp/webchat.png' });

    await page.reload();
    await expect.poll(() => botBubbles(page), { timeout: 20_000 }).toEqual([
      expect.stringContaining('Switchboard demo bot'),
      'What is your name?',
      'Nice to meet you, Ada! Which city are you from?',
    ]);
    expect(await page.locator('.msg.me').allInnerTexts()).toEqual(['Tell me about yourself', 'Ada']);
    // A reload is a returning visitor, not a new one: no second greeting.
    expect(await page.locator('.msg.bot').count()).toBe(3);

    // The server drops every socket: the page reconnects by itself and carries on.
    await page.evaluate(() => {
      const w = window as unknown as { states: string[] };
      w.states = [];
      new MutationObserver(() => w.states.push(document.body.dataset.connection ?? '')).observe(document.body, { attributes: true });
    });
    const webchat = sb.connectors.find((c) => c.platform === 'webchat')!;
    await webchat.close!();
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { states: string[] }).states), { timeout: 20_000 })
      .toEqual(expect.arrayContaining(['offline', 'open']));
    expect(await page.evaluate(() => document.body.dataset.connection)).toBe('open');
    expect(await page.locator('.msg.bot').count()).toBe(3);

    // An image from the upload button reaches the bot.
    await page.getByRole('textbox').fill('Berlin');
    await page.keyboard.press('Enter');
    await expect.poll(() => botBubbles(page), { timeout: 20_000 }).toContain('Thank you, Ada! I will remember that you are from Berlin.');
    await page.locator('#chat-attach').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: PNG_1PX });
    await expect.poll(() => botBubbles(page), { timeout: 20_000 }).toContain('Got your image.\nThe first one is 1×1 pixels.');
    expect(await page.locator('.msg.me img').count()).toBe(1);

    // "End chat" forgets the visitor on this device: a reload greets a new visitor.
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'End chat' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Start a new chat' }).isVisible(), { timeout: 20_000 }).toBe(true);
    expect(await page.evaluate(() => localStorage.getItem('switchboard.webchat.token'))).toBeNull();
    await page.getByRole('button', { name: 'Start a new chat' }).click();
    await expect.poll(() => botBubbles(page), { timeout: 20_000 }).toEqual([expect.stringContaining('Hello!')]);
    expect(await page.locator('.msg.me').count()).toBe(0);

    expect(problems).toEqual([]);
    await context.close();
  });

  it('answers every message of a person who types faster than the bot answers, in order', { timeout: 120_000 }, async () => {
    const page = await browser.newPage();
    await page.goto(sb.url! + '/');
    await expect.poll(() => page.locator('.msg.bot').count(), { timeout: 20_000 }).toBe(1);
    // More than the burst the server allows (20), typed at once: whatever the server refuses
    // for speed, the page resends after the wait it was told, in order.
    const words = Array.from({ length: 24 }, (_, i) => `message ${i + 1}`);
    await typeAtOnce(page, words);
    await expect
      .poll(async () => (await botBubbles(page)).slice(1), { timeout: 60_000 })
      .toEqual(words.map((w) => `You said: «${w}»`));
    expect(await page.locator('.msg.me').allInnerTexts()).toEqual(words);
    expect(await page.locator('.msg.me.failed, .msg.me.pending').count()).toBe(0);
    // The composer keeps to the limit the server announced.
    await page.getByRole('textbox').fill('x'.repeat(5000));
    expect((await page.getByRole('textbox').inputValue()).length).toBe(4096);
    await page.close();
  });

  it('shows the error line when the server asks the page to slow down, then delivers everything', { timeout: 120_000 }, async () => {
    // A bare connector with a tight rate, so that typing at once is sure to exceed it.
    const h = await startHarness({ rateLimit: { perSecond: 1, burst: 3 } });
    try {
      const page = await browser.newPage();
      await page.goto(h.url + '/');
      await expect.poll(() => page.evaluate(() => document.body.dataset.connection), { timeout: 20_000 }).toBe('open');
      const words = Array.from({ length: 8 }, (_, i) => `fast ${i + 1}`);
      await typeAtOnce(page, words);
      await expect.poll(() => page.getByRole('alert').innerText(), { timeout: 20_000 }).toContain('too fast');
      await expect
        .poll(() => h.stored.flatMap((u) => (u.event.kind === 'message' && u.event.text ? [u.event.text] : [])), { timeout: 60_000 })
        .toEqual(words);
      await expect.poll(() => page.locator('.msg.me.pending').count(), { timeout: 20_000 }).toBe(0);
      expect(await page.locator('.msg.me.failed').count()).toBe(0);
      expect(h.logs.some((l) => l.msg === 'webchat: visitor is sending too fast')).toBe(true);
      await page.close();
    } finally {
      await h.close();
    }
  });

  it('embeds in another site with one script tag', { timeout: 120_000 }, async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    await page.goto(hostUrl);
    const launcher = page.getByRole('button', { name: 'Open chat' });
    await launcher.click();
    const chat = page.frameLocator('iframe[title="Ask us"]');
    await expect.poll(() => chat.locator('.msg.bot').first().innerText(), { timeout: 20_000 }).toContain('Switchboard demo bot');
    await chat.getByRole('button', { name: 'What can you do?' }).click();
    await expect
      .poll(() => chat.locator('.msg.bot').allInnerTexts(), { timeout: 20_000 })
      .toContainEqual(expect.stringContaining('Here is what I can do'));
    await page.screenshot({ path: '/tmp/webchat-widget.png' });
    // The host page's own content is untouched, and the panel closes again.
    expect(await page.locator('h1').innerText()).toBe('A conference site');
    await page.getByRole('button', { name: 'Close chat' }).first().click();
    await expect.poll(() => page.locator('iframe[title="Ask us"]').isVisible()).toBe(false);
    await page.close();
  });
});
