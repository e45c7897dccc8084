/**
 * Why `npm run image` stopped. The code is stable (tests and scripts match on it); the message is one line a person
 * can act on and never holds a credential. `USAGE` exits 2, everything else 1 (see main.ts).
 */
export type ImageErrorCode =
  'USAGE' | 'PREREQUISITE' | 'FETCH' | 'BUILD' | 'CREDENTIALS' | 'AUTH_UNSUPPORTED' | 'UNAUTHORIZED' | 'PUSH';

export class ImageError extends Error {
  override readonly name = 'ImageError';
  constructor(
    readonly code: ImageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
