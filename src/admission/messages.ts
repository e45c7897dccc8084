import { mirrorCommand, ocMirrorCommand, type ImageDecision } from '../policy/index.js';
import { formatReference } from '../reference/index.js';
import type { Finding } from '../engine/index.js';

export const ref = (d: ImageDecision): string => (d.final ? formatReference(d.final) : d.input);

/** One violation, for a person: where, what was written, what it resolves to, the rule, and the fix. */
export function violationText({ site, decision: d }: Finding): string {
  const where = `${site.location}: image "${site.image}"`;
  if (d.code === 'INVALID_IMAGE_REF')
    return `${where} is not a valid image reference (${d.error?.message ?? 'invalid'})`;
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

export function denialMessage(violations: readonly Finding[]): string {
  const count = violations.length === 1 ? '1 image is' : `${violations.length} images are`;
  return `registry-gate: ${count} not allowed: ${violations.map(violationText).join('; ')}`;
}
