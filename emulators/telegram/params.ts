/**
 * Bot API parameters arrive as a query string, JSON, a url-encoded form or multipart (uploads);
 * Telegram accepts all four and coerces values ("5" is a number, a JSON string is an object).
 * These helpers read one parameter with that leniency and fail the way Telegram does.
 */
import { errors } from './limits.ts';
import type { Upload } from './media.ts';

export type Params = Record<string, unknown>;

/** Reads a multipart body into fields (strings) and uploads. */
export async function parseMultipart(body: Buffer, contentType: string): Promise<Params> {
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw errors.badRequest('invalid multipart/form-data body');
  }
  const params: Params = {};
  const entries: Array<[string, FormDataEntryValue]> = [];
  form.forEach((value, key) => entries.push([key, value]));
  for (const [key, value] of entries) {
    if (typeof value === 'string') params[key] = value;
    else params[key] = { bytes: Buffer.from(await value.arrayBuffer()), name: value.name || key, mime: value.type || 'application/octet-stream' } satisfies Upload;
  }
  return params;
}

export const isUpload = (v: unknown): v is Upload => typeof v === 'object' && v !== null && Buffer.isBuffer((v as Upload).bytes);

/** Parameters as the call log shows them: uploads are summarised, not stored twice. */
export function summarise(params: Params): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(params)) out[k] = isUpload(v) ? { file: v.name, size: v.bytes.length, mime: v.mime } : v;
  return out;
}

export function optionalString(params: Params, name: string): string | undefined {
  const v = params[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw errors.badRequest(`field "${name}" must be of type String`);
}

export function requiredString(params: Params, name: string, missing = `${name} is empty`): string {
  const v = optionalString(params, name);
  if (v === undefined) throw errors.badRequest(missing);
  return v;
}

export function optionalInt(params: Params, name: string): number | undefined {
  const v = params[name];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw errors.badRequest(`field "${name}" must be of type Integer`);
  return n;
}

export function optionalBool(params: Params, name: string): boolean | undefined {
  const v = params[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1' || v === 1) return true;
  if (v === 'false' || v === '0' || v === 0) return false;
  throw errors.badRequest(`field "${name}" must be of type Boolean`);
}

/** A JSON-valued parameter (arrays, objects) that form posts send as a string. */
export function optionalJson(params: Params, name: string): unknown {
  const v = params[name];
  if (typeof v !== 'string') return v;
  if (v === '') return undefined;
  try {
    return JSON.parse(v);
  } catch {
    throw errors.badRequest(`can't parse ${name} JSON object`);
  }
}

/** `chat_id`: an integer (or its string). Channel usernames (@name) are not emulated. */
export function chatId(params: Params): number {
  const v = params.chat_id;
  if (v === undefined || v === null || v === '') throw errors.badRequest('chat_id is empty');
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw errors.chatNotFound();
  return n;
}
