import { mirrorCommand, ocMirrorCommand, type ImageDecision } from '../policy/index.js';
import { formatReference } from '../reference/index.js';
import { boundedJoin, clip } from './bounds.js';
import type { Finding } from './evaluate-request.js';

const ref = (d: ImageDecision): string => (d.final ? formatReference(d.final) : d.input);

/** An image as quoted in a message: a valid reference is at most 255 characters; an invalid one may be any size. */
const MAX_QUOTED_IMAGE = 300;

/** One violation, for a person: where, what was written, what it resolves to, the rule, and the fix. */
export function violationText({ site, decision: d }: Finding): string {
  const where = `${site.location}: image "${clip(site.image, MAX_QUOTED_IMAGE)}"`;
  if (d.code === 'INVALID_IMAGE_REF')
    return `${where} is not a valid image reference (${clip(d.error?.message ?? 'invalid', MAX_QUOTED_IMAGE)})`;
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

/** What a template's Pods will get, for `kubectl apply --dry-run=server` to show. */
export function rewriteText({ site, decision: d }: Finding): string {
  const source = d.mirror === null ? '' : ` (mirror of ${d.mirror.source})`;
  return `${site.location}: ${site.image} will be pulled as ${ref(d)}${source}`;
}

/** Maps lazily: a bounded message reads only the items it prints. */
export function* lazyMap<T>(items: Iterable<T>, f: (item: T) => string): Generator<string> {
  for (const item of items) yield f(item);
}

/** The items of each part in turn, lazily. */
export function* chain(...parts: Iterable<string>[]): Generator<string> {
  for (const part of parts) yield* part;
}

/**
 * The apiserver drops warnings that hold control characters and truncates long ones once their total passes a
 * few kilobytes (k8s.io/apiserver warning recorder). Keep each on one line, short, and the total bounded,
 * saying how many were left out rather than losing them silently. Lines are read lazily, as many as fit.
 */
const MAX_WARNING_LENGTH = 256;
const MAX_WARNINGS_TOTAL = 3500;

/** Control characters are exactly what must go: the apiserver drops a warning that holds one. */
// eslint-disable-next-line no-control-regex
const oneLine = (text: string): string => text.replace(/[\u0000-\u001f\u007f]+/g, ' ');

export function boundedWarnings(lines: Iterable<string>, count: number): string[] {
  const out: string[] = [];
  let total = 0;
  let i = 0;
  for (const line of lines) {
    const w = clip(oneLine(line.slice(0, MAX_WARNING_LENGTH * 2)), MAX_WARNING_LENGTH);
    if (total + w.length > MAX_WARNINGS_TOTAL) {
      out.push(`registry-gate: ${count - i} more warnings not shown`);
      break;
    }
    out.push(w);
    total += w.length;
    i++;
  }
  return out;
}
