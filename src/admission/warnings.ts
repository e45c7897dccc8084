import type { Finding, ImageSite } from '../engine/index.js';
import { ref } from './messages.js';

/**
 * The apiserver may truncate a warning longer than 256 characters, and drops one that holds a control
 * character; it also truncates once the total passes a few kilobytes (AdmissionResponse.warnings,
 * https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#response). So every
 * warning is one line of at most 256 characters, long ones are split rather than cut, and the total is
 * bounded, saying how many were left out rather than losing them silently.
 */
export const MAX_WARNING_LENGTH = 256;
const MAX_WARNINGS_TOTAL = 3500;
/** A container's name is the user's to choose; in a split warning it is said again, so only its start. */
const MAX_NAME_IN_SPLIT = 40;

const PULLED = 'will be pulled as';

/**
 * What a template's Pods will get, for `kubectl apply --dry-run=server` to show: `spec.template.spec.containers[0]
 * "web": nginx:1.27 will be pulled as registry.mycorp.com/dockerhub/library/nginx:1.27 (mirror of docker.io)`.
 * When that is too long, the essential comes first and what repeats goes: the container path and the reference
 * the Pods will pull, without the image as written (the mirror note names its source, the rest of its path is
 * the final one's); and when even that does not fit, the reference is split into numbered pieces at its `/`,
 * `:` and `@` boundaries, the digest whole in one piece.
 */
export function rewriteWarnings({ site, decision }: Finding): string[] {
  const final = ref(decision);
  const mirror = decision.mirror === null ? '' : ` (mirror of ${decision.mirror.source})`;
  const candidates = [
    `${site.location}: ${site.image} ${PULLED} ${final}${mirror}`,
    `${site.location} ${PULLED} ${final}${mirror}`,
    `${site.location} ${PULLED} ${final}`,
  ];
  const fits = candidates.find((w) => w.length <= MAX_WARNING_LENGTH);
  if (fits !== undefined) return [fits];
  const head = `${shortLocation(site)} ${PULLED}`;
  // `(kk/nn): ` at most: a reference is at most 255 + 129 + a digest characters, a few pieces.
  const width = MAX_WARNING_LENGTH - head.length - ' (99/99): '.length;
  const pieces = splitReference(final, width);
  return pieces.map((piece, i) => `${head} (${i + 1}/${pieces.length}): ${piece}`);
}

function shortLocation(site: ImageSite): string {
  if (site.name.length <= MAX_NAME_IN_SPLIT) return site.location;
  const at = site.location.lastIndexOf(' "');
  return `${site.location.slice(0, at)} "${site.name.slice(0, MAX_NAME_IN_SPLIT - 3)}..."`;
}

/**
 * Consecutive pieces of a reference, each at most `width` long, joined they give it back: cut before `/`, `:`
 * and `@` (so the digest, `@sha256:` and 64 hex digits, stays whole), and within a part only when one part
 * alone is longer than `width`.
 */
export function splitReference(reference: string, width: number): string[] {
  const at = reference.indexOf('@');
  const name = at === -1 ? reference : reference.slice(0, at);
  const parts = [...name.split(/(?=[/:])/), ...(at === -1 ? [] : [reference.slice(at)])].flatMap((part) =>
    part.length <= width ? [part] : chunks(part, width),
  );
  const pieces: string[] = [];
  for (const part of parts) {
    const last = pieces.length - 1;
    if (last >= 0 && pieces[last]!.length + part.length <= width) pieces[last] += part;
    else pieces.push(part);
  }
  return pieces;
}

function chunks(text: string, width: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += width) out.push(text.slice(i, i + width));
  return out;
}

/** Control characters are exactly what must go: the apiserver drops a warning that holds one. */
// eslint-disable-next-line no-control-regex
const oneLine = (text: string): string => text.replace(/[\u0000-\u001f\u007f]+/g, ' ');

/**
 * Any warnings, made safe to send, read lazily (as many as fit): control characters become spaces, a line longer
 * than 256 characters is split at spaces into continued pieces (`… ` marks a continuation), a group already cut
 * to size (`rewriteWarnings`) is kept together, and the total stays under the budget, the last warning saying
 * how many of the `count` items were left out.
 */
export function boundedWarnings(items: Iterable<string | readonly string[]>, count: number): string[] {
  const out: string[] = [];
  let total = 0;
  let i = 0;
  for (const item of items) {
    // Past half the budget a line cannot be shown beside anything else: cut it there before any other work.
    const pieces =
      typeof item === 'string'
        ? splitLine(oneLine(item.slice(0, MAX_WARNINGS_TOTAL / 2)))
        : item.map(oneLine);
    const size = pieces.reduce((n, p) => n + p.length, 0);
    if (total + size > MAX_WARNINGS_TOTAL) {
      out.push(`registry-gate: ${count - i} more warnings not shown`);
      break;
    }
    out.push(...pieces);
    total += size;
    i++;
  }
  return out;
}

const MORE = ' …';
const CONTINUED = '… ';

function splitLine(line: string): string[] {
  if (line.length <= MAX_WARNING_LENGTH) return [line];
  const pieces: string[] = [];
  let rest = line;
  while (rest.length > 0) {
    const lead = pieces.length === 0 ? '' : CONTINUED;
    const room = MAX_WARNING_LENGTH - lead.length;
    if (rest.length <= room) {
      pieces.push(lead + rest);
      break;
    }
    const space = rest.lastIndexOf(' ', room - MORE.length);
    const cut = space > room / 2 ? space : room - MORE.length;
    pieces.push(lead + rest.slice(0, cut) + MORE);
    rest = rest.slice(cut).trimStart();
  }
  return pieces;
}
