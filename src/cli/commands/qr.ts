/**
 * `switchboard qr encode TEXT --out FILE` and `switchboard qr decode FILE [--json]`.
 *
 * Exit codes of `qr decode`: 0 when at least one code was found, 1 when none was ("no QR code
 * found"), 2 when the input could not be read (not an image, empty, too large, timeout...).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { decodeQr, encodeQr, formatFromFileName, isQrError, type QrImageFormat } from '../../features/qr/index.ts';

const EXIT_NOT_FOUND = 1;
const EXIT_ERROR = 2;

function write(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function fail(message: string, code = EXIT_ERROR): void {
  process.stderr.write(`error: ${message}\n`);
  process.exitCode = code;
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number, got "${value}"`);
    return n;
  };
}

interface EncodeCliOptions {
  out: string;
  format?: QrImageFormat;
  size?: number;
  margin?: number;
  ec?: 'L' | 'M' | 'Q' | 'H';
}

async function encodeAction(text: string, opts: EncodeCliOptions): Promise<void> {
  const toStdout = opts.out === '-';
  const format = opts.format ?? (toStdout ? 'png' : formatFromFileName(opts.out));
  if (!format) return fail(`cannot tell the image format from "${opts.out}": name it .png or .svg, or pass --format`);
  try {
    const image = await encodeQr(text, { format, size: opts.size, margin: opts.margin, errorCorrection: opts.ec });
    if (toStdout) {
      process.stdout.write(image);
      return;
    }
    await writeFile(opts.out, image);
    const what = format === 'png' ? `PNG ${opts.size ?? 512}×${opts.size ?? 512}` : 'SVG';
    write(`wrote a QR code (${what}) to ${opts.out}`);
  } catch (error: unknown) {
    if (isQrError(error)) return fail(error.message);
    if (error instanceof RangeError) return fail(error.message);
    const message = error instanceof Error ? error.message : String(error);
    return fail(`cannot write ${opts.out}: ${message}`);
  }
}

interface DecodeCliOptions {
  json?: boolean;
  timeout?: number;
}

async function decodeAction(file: string, opts: DecodeCliOptions): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error: unknown) {
    const reason = (error as { code?: string }).code === 'ENOENT' ? 'no such file' : String(error);
    if (opts.json) write(JSON.stringify({ codes: [], error: { code: 'unreadable', message: reason } }));
    return fail(`cannot read ${file}: ${reason}`);
  }
  try {
    const codes = await decodeQr(bytes, { timeoutMs: opts.timeout });
    if (opts.json) write(JSON.stringify({ codes }));
    else if (codes.length > 0) write(codes.join('\n'));
    if (codes.length === 0) fail(`no QR code found in ${file}`, EXIT_NOT_FOUND);
  } catch (error: unknown) {
    if (!isQrError(error)) throw error;
    if (opts.json) write(JSON.stringify({ codes: [], error: { code: error.code, message: error.message } }));
    fail(`${file}: ${error.message} (${error.code})`);
  }
}

/** Adds `qr encode` and `qr decode` to the program. */
export function register(program: Command): void {
  const qr = program.command('qr').description('make QR code images and read QR codes from photos');

  qr.command('encode')
    .description('write TEXT as a QR code image (PNG or SVG, from the file name or --format)')
    .argument('<text>', 'the text or URL to encode')
    .requiredOption('-o, --out <file>', 'image file to write (.png or .svg); - writes to stdout')
    .addOption(new Option('--format <format>', 'image format (default: from the file name)').choices(['png', 'svg']))
    .option('--size <px>', 'PNG width and height in pixels (default 512)', positiveInt('--size'))
    .option('--margin <modules>', 'quiet zone in modules (default 4)', positiveInt('--margin'))
    .addOption(new Option('--ec <level>', 'error correction level (default M)').choices(['L', 'M', 'Q', 'H']))
    .action(encodeAction);

  qr.command('decode')
    .description('print every QR code found in an image (exit 0 found, 1 none found, 2 unreadable input)')
    .argument('<file>', 'image file: JPEG, PNG, WebP, GIF, TIFF, AVIF, SVG...')
    .option('--json', 'print {"codes": [...]} as JSON')
    .option('--timeout <ms>', 'give up after this many milliseconds (default 20000)', positiveInt('--timeout'))
    .action(decodeAction);
}
