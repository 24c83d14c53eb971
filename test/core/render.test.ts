import { describe, expect, it } from 'vitest';
import { FULL_CAPABILITIES, type Capabilities } from '../../src/core/capabilities.ts';
import { bold, fmt, italic, link, plainText, splitRichText, toHtml, visibleLength } from '../../src/core/format.ts';
import type { Button } from '../../src/core/model.ts';
import { matchOption, renderMessage } from '../../src/core/render.ts';

const vkLike: Capabilities = {
  ...FULL_CAPABILITIES,
  textLimit: 9000,
  markup: 'none',
  inline: { perRow: 5, rows: 6, total: 10, payloadBytes: 255, labelLength: 40 },
  replyKeyboard: { perRow: 5, rows: 10, total: 40, payloadBytes: 255, labelLength: 40 },
  contactRequest: false,
};
const act = (label: string, payload = label.toLowerCase()): Button => ({ type: 'action', label, payload });

describe('light formatting', () => {
  it('renders bold, italic and links as escaped HTML and as plain text', () => {
    const text = fmt`Hi ${bold('<Ann>')}, see ${link('the site', 'https://x.test/?a=1&b=2')} ${italic('now')}`;
    expect(toHtml(text)).toBe('Hi <b>&lt;Ann&gt;</b>, see <a href="https://x.test/?a=1&amp;b=2">the site</a> <i>now</i>');
    expect(plainText(text)).toBe('Hi <Ann>, see the site (https://x.test/?a=1&b=2) now');
  });

  it('splits long text at paragraph or word boundaries without exceeding the limit', () => {
    const words = Array.from({ length: 500 }, (_, i) => `word${i}`).join(' ');
    const chunks = splitRichText([{ text: words, bold: true }], 100);
    expect(chunks.length).toBeGreaterThan(10);
    for (const c of chunks) {
      expect(visibleLength(c)).toBeLessThanOrEqual(100);
      expect(c.every((s) => s.bold)).toBe(true);
    }
    expect(chunks.map((c) => c.map((s) => s.text).join('')).join(' ')).toBe(words);
  });

  it('never cuts a surrogate pair in half', () => {
    const chunks = splitRichText('😀'.repeat(10), 5);
    for (const c of chunks) expect(c[0].text).not.toMatch(/[\ud800-\udbff]$/);
    expect(chunks.map((c) => c[0].text).join('')).toBe('😀'.repeat(10));
  });
});

describe('rendering within capabilities', () => {
  it('keeps buttons that fit as inline buttons on the last part', () => {
    const plan = renderMessage({ text: 'Choose', buttons: [[act('A'), act('B')]] }, vkLike);
    expect(plan.options).toEqual([]);
    expect(plan.parts).toEqual([{ text: [{ text: 'Choose' }], buttons: [[act('A'), act('B')]], keyboard: 'inline' }]);
  });

  it('re-flows a row that is too wide instead of degrading', () => {
    const row = ['1', '2', '3', '4', '5', '6', '7'].map((n) => act(n));
    const plan = renderMessage({ text: 'x', buttons: [row] }, vkLike);
    expect(plan.parts[0].buttons!.map((r) => r.length)).toEqual([5, 2]);
  });

  it('turns more buttons than fit into a numbered list and maps the answer back', () => {
    const many = Array.from({ length: 12 }, (_, i) => [act(`Option ${i + 1}`, `opt:${i + 1}`)]);
    const plan = renderMessage({ text: 'Pick one', buttons: many }, vkLike);
    expect(plan.parts[0].buttons).toBeUndefined();
    expect(plainText(plan.parts[0].text!)).toContain('\n\n1. Option 1\n2. Option 2');
    expect(plan.options).toHaveLength(12);
    expect(matchOption('12', plan.options)).toBe('opt:12');
    expect(matchOption(' 3. ', plan.options)).toBe('opt:3');
    expect(matchOption('option 5', plan.options)).toBe('opt:5');
    expect(matchOption('13', plan.options)).toBeUndefined();
  });

  it('degrades an over-long payload to a numbered option rather than a broken button', () => {
    const plan = renderMessage({ text: 'x', buttons: [[act('Long', 'p'.repeat(300))]] }, vkLike);
    expect(plan.options).toEqual([{ n: 1, label: 'Long', payload: 'p'.repeat(300) }]);
  });

  it('turns a contact request the platform lacks into a text prompt and keeps location on a reply keyboard', () => {
    const plan = renderMessage(
      { text: 'We need your details', buttons: [[{ type: 'contact', label: 'Type your phone number' }], [{ type: 'location', label: 'Share location' }]] },
      vkLike,
    );
    expect(plainText(plan.parts[0].text!)).toBe('We need your details\n\nType your phone number');
    expect(plan.parts[0].keyboard).toBe('reply');
    expect(plan.parts[0].buttons).toEqual([[{ type: 'location', label: 'Share location' }]]);
  });

  it('shows url buttons as links where the platform has none', () => {
    const plan = renderMessage({ text: 'Docs', buttons: [[{ type: 'url', label: 'Open', url: 'https://x.test' }]] }, { ...vkLike, urlButtons: false });
    expect(plainText(plan.parts[0].text!)).toBe('Docs\n\nOpen: https://x.test');
  });

  it('splits long text into several parts with the buttons on the last', () => {
    const plan = renderMessage({ text: 'a '.repeat(6000), buttons: [[act('Ok')]] }, { ...vkLike, textLimit: 4096 });
    expect(plan.parts.length).toBe(3);
    expect(plan.parts.slice(0, 2).every((p) => !p.buttons)).toBe(true);
    expect(plan.parts[2].buttons).toEqual([[act('Ok')]]);
  });

  it('sends images first, as links where images are not supported', () => {
    const msg = { text: 'Your code', images: [{ url: 'https://x.test/qr.png' }] };
    expect(renderMessage(msg, FULL_CAPABILITIES).parts).toEqual([{ image: { url: 'https://x.test/qr.png' } }, { text: [{ text: 'Your code' }] }]);
    expect(plainText(renderMessage(msg, { ...FULL_CAPABILITIES, images: false }).parts[0].text!)).toBe('https://x.test/qr.png');
  });
});
