/** Stable codes of the mistakes a user can make and fix; scripts and tests tell them apart by these. */
export type UsageErrorCode =
  /** A wrong flag, argument or combination of them. */
  | 'USAGE'
  /** A file (policy, input, document to import) that cannot be read. */
  | 'FILE_UNREADABLE'
  /** A policy that does not validate (every error is in the message, with its field path). */
  | 'POLICY_INVALID'
  /** Documents to import that are not what `policy import` reads. */
  | 'IMPORT_INVALID';

/** A mistake of the user's: one message that says what is wrong and how to fix it, exit code 2, no stack trace. */
export class UsageError extends Error {
  readonly code: UsageErrorCode;
  constructor(message: string, code: UsageErrorCode = 'USAGE', options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** `err.message` of an Error (the first line), else the value as text: for messages that quote a failure. */
export function reasonOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
