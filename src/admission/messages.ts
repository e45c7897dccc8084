import { mirrorCommand, ocMirrorCommand, type ImageDecision } from '../policy/index.js';
import { formatReference } from '../reference/index.js';
import { boundedJoin, clip, type Finding } from '../engine/index.js';

export const ref = (d: ImageDecision): string => (d.final ? formatReference(d.final) : d.input);

/** An image as quoted in a message: a valid reference is at most 255 characters; an invalid one may be any size. */
const MAX_QUOTED_IMAGE = 300;

/** One violation, for a person: where, what was written, what it resolves to, the rule, and the fix. */
export function violationText({ site, decision: d }: Finding): string {
  const where = `${site.location}: image "${clip(site.image, MAX_QUOTED_IMAGE)}"`;
  if (d.code === 'INVALID_IMAGE_REF')
    return `${where} is not a valid image reference (${clip(d.error?.message ?? 'invalid', MAX_QUOTED_IMAGE)})`;
  const judged = ref(d);
  // A Pod judged as written, whose short name the policy resolves to another repository (an alias,
  // shortNames.registry): say both, so the message agrees with `explain` and still names what was judged.
  const elsewhere =
    d.resolved !== null &&
    d.final !== null &&
    d.mirror === null &&
    (d.resolved.domain !== d.final.domain || d.resolved.path !== d.final.path);
  const resolvesTo =
    elsewhere && d.resolved !== null
      ? ` resolves to ${formatReference(d.resolved)} through the policy's shortNames, but as written a runtime without them pulls ${judged}, which`
      : judged === site.image
        ? ''
        : ` resolves to ${judged}, which`;
  const fix = d.fix === null ? '' : `; use ${d.fix}`;
  return `${where}${resolvesTo} ${why(d)}${fix}`;
}

function why(d: ImageDecision): string {
  const mirror = d.servedBy?.mirror ?? '';
  const reason = d.mirrorCheck !== null && 'reason' in d.mirrorCheck ? d.mirrorCheck.reason : '';
  switch (d.code) {
    case 'REGISTRY_BLOCKED':
      return `is blocked by registrySources.blockedRegistries "${d.rule ?? ''}"`;
    case 'NOT_IN_MIRROR': {
      const how =
        d.final !== null && d.servedBy !== null
          ? `; mirror it with: ${mirrorCommand(d.final, d.servedBy)} (or: ${ocMirrorCommand(d.final, d.servedBy)})`
          : '';
      return `is not in mirror ${mirror} (${reason})${how}`;
    }
    case 'MIRROR_UNREACHABLE':
      return `could not be checked in mirror ${mirror} (${reason}; onError: deny)`;
    default:
      return 'is not in registrySources.allowedRegistries';
  }
}

/**
 * kubectl prints the whole message, and a Pod with 30,000 offending containers once made it 10 MiB: every
 * violation that fits in a few kilobytes is named, and the rest are counted.
 */
const MAX_DENIAL_CHARS = 4096;

export function denialMessage(violations: readonly Finding[]): string {
  const count = violations.length === 1 ? '1 image is' : `${violations.length} images are`;
  const head = `registry-gate: ${count} not allowed: `;
  const named = boundedJoin(lazyMap(violations, violationText), violations.length, '; ', MAX_DENIAL_CHARS);
  const tail = named.left === 0 ? '' : `; and ${named.left} more containers not shown`;
  return `${head}${named.value}${tail}`;
}

/** Maps lazily: a bounded message reads only the items it prints. */
export function* lazyMap<T, R>(items: Iterable<T>, f: (item: T) => R): Generator<R> {
  for (const item of items) yield f(item);
}

/** The items of each part in turn, lazily. */
export function* chain<T>(...parts: Iterable<T>[]): Generator<T> {
  for (const part of parts) yield* part;
}
