import type { ImageDecision } from '../policy/index.js';
import { formatReference } from '../reference/index.js';
import type { Finding } from '../engine/index.js';

export const ref = (d: ImageDecision): string => (d.final ? formatReference(d.final) : d.input);

/** One violation, for a person: where, what was written, what it resolves to, the rule, and the fix. */
export function violationText({ site, decision: d }: Finding): string {
  const where = `${site.location}: image "${site.image}"`;
  if (d.code === 'INVALID_IMAGE_REF')
    return `${where} is not a valid image reference (${d.error?.message ?? 'invalid'})`;
  const judged = ref(d);
  const resolved = d.resolved === null ? judged : formatReference(d.resolved);
  // A Pod judged as written, whose short name the policy resolves elsewhere (an alias, shortNames.registry):
  // say both, so the message agrees with `explain` and still names what was judged.
  const resolvesTo =
    resolved !== judged && resolved !== site.image
      ? ` resolves to ${resolved} through the policy's shortNames, but as written a runtime without them pulls ${judged}, which`
      : judged === site.image
        ? ''
        : ` resolves to ${judged}, which`;
  const why =
    d.code === 'REGISTRY_BLOCKED'
      ? `is blocked by registrySources.blockedRegistries "${d.rule ?? ''}"`
      : 'is not in registrySources.allowedRegistries';
  const fix = d.fix === null ? '' : `; use ${d.fix}`;
  return `${where}${resolvesTo} ${why}${fix}`;
}

export function denialMessage(violations: readonly Finding[]): string {
  const count = violations.length === 1 ? '1 image is' : `${violations.length} images are`;
  return `registry-gate: ${count} not allowed: ${violations.map(violationText).join('; ')}`;
}
