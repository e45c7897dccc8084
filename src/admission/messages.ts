import { mirrorCommand, ocMirrorCommand, type ImageDecision } from '../policy/index.js';
import { formatReference } from '../reference/index.js';
import type { Finding } from './evaluate-request.js';

const ref = (d: ImageDecision): string => (d.final ? formatReference(d.final) : d.input);

/** One violation, for a person: where, what was written, what it resolves to, the rule, and the fix. */
export function violationText({ site, decision: d }: Finding): string {
  const where = `${site.location}: image "${site.image}"`;
  if (d.code === 'INVALID_IMAGE_REF')
    return `${where} is not a valid image reference (${d.error?.message ?? 'invalid'})`;
  const resolvesTo = ref(d) === site.image ? '' : ` resolves to ${ref(d)}, which`;
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

/** What a template's Pods will get, for `kubectl apply --dry-run=server` to show. */
export function rewriteText({ site, decision: d }: Finding): string {
  const source = d.mirror === null ? '' : ` (mirror of ${d.mirror.source})`;
  return `${site.location}: ${site.image} will be pulled as ${ref(d)}${source}`;
}

/**
 * The apiserver drops warnings that hold control characters and truncates long ones once their total passes a
 * few kilobytes (k8s.io/apiserver warning recorder). Keep each on one line, short, and the total bounded,
 * saying how many were left out rather than losing them silently.
 */
const MAX_WARNING_LENGTH = 256;
const MAX_WARNINGS_TOTAL = 3500;

export function boundedWarnings(lines: readonly string[]): string[] {
  const out: string[] = [];
  let total = 0;
  for (const [i, line] of lines.entries()) {
    // Control characters are exactly what must go: the apiserver drops a warning that holds one.
    // eslint-disable-next-line no-control-regex
    let w = line.replace(/[\u0000-\u001f\u007f]+/g, ' ');
    if (w.length > MAX_WARNING_LENGTH) w = `${w.slice(0, MAX_WARNING_LENGTH - 3)}...`;
    if (total + w.length > MAX_WARNINGS_TOTAL) {
      out.push(`registry-gate: ${lines.length - i} more warnings not shown`);
      break;
    }
    out.push(w);
    total += w.length;
  }
  return out;
}
