/**
 * The errors the QR engine reports. Each carries a stable {@link QrErrorCode} so that callers (the
 * bot, the CLI, the HTTP API) can pick a message for a person without parsing English text.
 */

/** Stable error codes; documented in docs/qr.md. */
export type QrErrorCode =
  /** The input has zero bytes. */
  | 'empty'
  /** The bytes are not an image format the decoder understands (or the image is corrupt). */
  | 'not_an_image'
  /** The file or its pixel dimensions exceed the limits (decompression-bomb guard). */
  | 'too_large'
  /** Decoding took longer than the allowed time; the worker doing it was stopped. */
  | 'timeout'
  /** Too many decodes are already waiting; try again later. */
  | 'busy'
  /** The text does not fit in a QR code (encoding only). */
  | 'text_too_long'
  /** An unexpected failure inside the engine (e.g. the worker died). */
  | 'internal';

export const QR_ERROR_CODES: readonly QrErrorCode[] = [
  'empty',
  'not_an_image',
  'too_large',
  'timeout',
  'busy',
  'text_too_long',
  'internal',
];

/** An error raised by {@link decodeQr} or {@link encodeQr}; `code` is stable, `message` is for people. */
export class QrError extends Error {
  override readonly name = 'QrError';
  readonly code: QrErrorCode;

  constructor(code: QrErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `value` is a {@link QrError} (also across worker boundaries once revived). */
export function isQrError(value: unknown): value is QrError {
  return value instanceof QrError;
}

/** The plain shape a QrError travels in between the worker and the pool. */
export interface SerializedQrError {
  code: QrErrorCode;
  message: string;
}

/** Turns any thrown value into the shape a worker posts back. */
export function serializeError(error: unknown): SerializedQrError {
  if (error instanceof QrError) return { code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message: `QR decoding failed: ${message}` };
}

/** Rebuilds a QrError from what a worker posted. */
export function reviveError(data: SerializedQrError): QrError {
  const code = QR_ERROR_CODES.includes(data.code) ? data.code : 'internal';
  return new QrError(code, data.message);
}
