import { createHash } from 'node:crypto';

/** What the log may say about a rejected body: its size and, when it was read whole, its hash. Never its text. */
export interface BodyFacts {
  readonly bytes: number;
  readonly sha256?: string;
}

/** An error whose message may go back to the client (HTTP 4xx): a field and what was expected, never a value. */
export class ClientError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: BodyFacts,
  ) {
    super(message);
  }
}

/** The size of a rejected body and, when it was read whole, its SHA-256: enough to find repeats, nothing to leak. */
export function bodyFacts(raw: Buffer | null, received: number): BodyFacts {
  return raw === null
    ? { bytes: received }
    : { bytes: raw.length, sha256: createHash('sha256').update(raw).digest('hex') };
}

/**
 * The apiserver's client retries a 429 after its Retry-After (client-go's checkWait), within the webhook's
 * timeout. A body too slow to arrive (408) closes its connection: the client is not one to wait for.
 */
export function refusalHeaders(status: number): Record<string, string> {
  if (status === 429) return { 'retry-after': '1' };
  return status === 408 ? { connection: 'close' } : {};
}
