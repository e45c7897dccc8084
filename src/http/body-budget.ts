/**
 * The bytes of all admission bodies in flight together, capped. One 7.4 MiB review (a Pod with tens of
 * thousands of defaulted containers) took RSS from 76 to over 300 MiB, and 32 connections each holding an
 * unfinished 7.5 MiB body took it to 322 MiB, past the Deployment's 256 MiB limit: per-body limits alone do not
 * bound memory, the sum does. A body holds its share from its first byte until its answer is written, since parsing
 * and deciding are where most of the memory goes (docs/reliability.md has the figures).
 *
 * Small bodies (every ordinary review is a few KiB) may also draw on a reserve of their own, so that a few huge or
 * stalled uploads cannot starve the apiserver's ordinary traffic; the bound is then the cap plus the reserve.
 */
export class BodyBudget {
  private used = 0;

  constructor(
    readonly capBytes: number,
    readonly smallBodyBytes = 64 * 1024,
    readonly reserveBytes = 4 * 1024 * 1024,
  ) {}

  /** Bytes held by bodies in flight now. */
  get inFlight(): number {
    return this.used;
  }

  /** A share for one request: take as bytes arrive (or the declared length up front), release once answered. */
  open(): BodyTicket {
    let held = 0;
    return {
      take: (bytes) => {
        const small = held + bytes <= this.smallBodyBytes;
        const limit = small ? this.capBytes + this.reserveBytes : this.capBytes;
        if (this.used + bytes > limit) return false;
        this.used += bytes;
        held += bytes;
        return true;
      },
      release: () => {
        this.used -= held;
        held = 0;
      },
    };
  }
}

export interface BodyTicket {
  /** Adds `bytes` to this request's share; false (and nothing taken) when that would pass the cap. */
  take(bytes: number): boolean;
  /** Gives the whole share back; safe to call more than once. */
  release(): void;
}
