import type { ImageReference, ReferenceError } from '../reference/index.js';
import type { CompiledMirror } from './compiled.js';
import type { MirrorAnswer } from './mirror-answer.js';

/**
 * Stable codes of what can be wrong with an image; transports only format them. The last two come from asking
 * the mirror (`verify: enforce`, `onError: deny`), never from the policy alone.
 */
export type ViolationCode =
  'INVALID_IMAGE_REF' | 'REGISTRY_BLOCKED' | 'REGISTRY_NOT_ALLOWED' | 'NOT_IN_MIRROR' | 'MIRROR_UNREACHABLE';
export type Verdict = 'allow' | 'deny' | 'exempt';

/**
 * Which reference the verdict is about. `final`: the image as the mutating webhook will leave it (pod templates,
 * `explain`, `audit`). `as-written`: the image exactly as it stands, as the runtime will pull it (a Pod at the
 * validating webhook, which must not trust that mutation ran).
 */
export type Judge = 'final' | 'as-written';

export interface ImageDecision {
  readonly input: string;
  /** Null when the input is a valid reference. */
  readonly error: ReferenceError | null;
  /** Fully-qualified after short-name resolution (aliases, `shortNames.registry`); no default tag added. */
  readonly resolved: ImageReference | null;
  /** What the verdict judged: the rewritten image for `final`, the image as it stands for `as-written`. */
  readonly final: ImageReference | null;
  /** The mirror rule that rewrote the image, when one did. */
  readonly mirror: CompiledMirror | null;
  /**
   * The mirror rule whose mirror serves `final`: the rule that rewrote it, or the one whose `mirror` covers an image
   * already written on a mirror. What a mirror look-up asks, and under which `verify`, `pin` and `onError`.
   */
  readonly servedBy: CompiledMirror | null;
  /** What the mirror said about `final`, once asked (policy/mirror-check.ts); null when not asked. */
  readonly mirrorCheck: MirrorAnswer | null;
  /** The mutating webhook must write `final` in place of the input (it differs from what the runtime would pull). */
  readonly rewrite: boolean;
  readonly decision: Verdict;
  readonly code: ViolationCode | null;
  /** The registry entry that decided (allowed or blocked entry, exemption), or null. */
  readonly rule: string | null;
  /** When denied: the reference that would be allowed (through a mirror), if there is one. */
  readonly fix: string | null;
  readonly pullSecrets: readonly string[];
  readonly warnings: readonly string[];
}
