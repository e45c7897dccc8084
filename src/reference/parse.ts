import { validateDigest } from './digest.js';
import { hexIdentifier, referenceError, repositoryNotLowercase, type ReferenceError } from './errors.js';
import { isDigestGrammar, isDomain, isHexIdentifier, isRemoteName, isTag } from './grammar.js';
import { DOCKER_HUB, type ImageReference } from './reference.js';

export type ParseResult =
  | { readonly ok: true; readonly ref: ImageReference }
  | { readonly ok: false; readonly error: ReferenceError };

/** Longest repository path the grammar allows (the path only: the domain does not count). */
const MAX_PATH_LENGTH = 255;

interface Split {
  domain: string;
  path: string;
  tag: string | null;
  digest: string | null;
}

/**
 * Splits `s` along the reference grammar, or returns null when it does not match. There is exactly one candidate
 * split: neither name nor tag may contain `@`; a tag cannot contain `:` or `/`, and a name holds a `:` only in
 * its domain, which a `/` must follow. The domain is taken greedily, as the anchored upstream expression does.
 */
function splitReference(s: string): Split | null {
  const at = s.indexOf('@');
  if (at !== -1 && s.indexOf('@', at + 1) !== -1) return null;
  const nameAndTag = at === -1 ? s : s.slice(0, at);
  const digest = at === -1 ? null : s.slice(at + 1);
  if (digest !== null && !isDigestGrammar(digest)) return null;

  const colon = nameAndTag.lastIndexOf(':');
  const hasTag = colon !== -1 && colon > nameAndTag.lastIndexOf('/');
  const name = hasTag ? nameAndTag.slice(0, colon) : nameAndTag;
  const tag = hasTag ? nameAndTag.slice(colon + 1) : null;
  if (tag !== null && !isTag(tag)) return null;

  const slash = name.indexOf('/');
  if (slash !== -1) {
    const first = name.slice(0, slash);
    const rest = name.slice(slash + 1);
    if (isDomain(first) && isRemoteName(rest)) return { domain: first, path: rest, tag, digest };
  }
  return isRemoteName(name) ? { domain: '', path: name, tag, digest } : null;
}

/**
 * distribution/reference `Parse`: the grammar alone, no defaults (`a/b` has domain `a`). Use
 * {@link parseNormalizedReference} for images as Kubernetes pulls them.
 */
export function parseReference(s: string): ParseResult {
  const split = splitReference(s);
  if (split === null) {
    if (s === '') return { ok: false, error: referenceError('NAME_EMPTY') };
    if (splitReference(goToLower(s)) !== null)
      return { ok: false, error: referenceError('NAME_CONTAINS_UPPERCASE') };
    return { ok: false, error: referenceError('INVALID_FORMAT') };
  }
  if (split.path.length > MAX_PATH_LENGTH) return { ok: false, error: referenceError('NAME_TOO_LONG') };
  if (split.digest !== null) {
    const digestError = validateDigest(split.digest);
    if (digestError !== null) return { ok: false, error: digestError };
  }
  return { ok: true, ref: split };
}

/**
 * distribution/reference `ParseNormalizedNamed`, what the kubelet and runtimes apply to a Pod's image: a first
 * component is a registry only if it contains `.` or `:`, is `localhost`, or has capitals; otherwise the image is
 * on Docker Hub (`docker.io`), where a single-component name gains `library/`. `index.docker.io` becomes
 * `docker.io`.
 *
 * @example parseNormalizedReference('nginx:1.27') // docker.io/library/nginx:1.27
 */
export function parseNormalizedReference(s: string): ParseResult {
  if (isHexIdentifier(s)) return { ok: false, error: hexIdentifier(s) };
  const { domain, remainder } = splitDockerDomain(s);
  const tagColon = remainder.indexOf(':');
  const remote = tagColon === -1 ? remainder : remainder.slice(0, tagColon);
  if (goToLower(remote) !== remote) return { ok: false, error: repositoryNotLowercase(remote) };
  return parseReference(`${domain}/${remainder}`);
}

/**
 * Whether the string names its registry (`quay.io/x`, `localhost:5000/x`) rather than being a short name that
 * the runtime resolves (`nginx`, `rhel7/etcd`): the first component must hold `.` or `:`, be `localhost`, or
 * contain capitals.
 */
export function namesRegistry(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash === -1) return false;
  const first = s.slice(0, slash);
  return /[.:]/.test(first) || first === 'localhost' || goToLower(first) !== first;
}

function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  let domain: string;
  let remainder: string;
  if (!namesRegistry(name)) {
    domain = DOCKER_HUB;
    remainder = name;
  } else {
    domain = name.slice(0, slash);
    remainder = name.slice(slash + 1);
  }
  if (domain === 'index.docker.io') domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !remainder.includes('/')) remainder = `library/${remainder}`;
  return { domain, remainder };
}

/**
 * Go's `strings.ToLower`: the simple, one-to-one Unicode case mapping per code point. JavaScript's
 * `toLowerCase` applies full mappings (`İ` becomes two code points, a final `Σ` depends on context), which
 * would classify some invalid inputs under a different error than upstream.
 */
function goToLower(s: string): string {
  // Fast path: the overwhelming majority of references are ASCII.
  if (/^\p{ASCII}*$/u.test(s)) return s.toLowerCase();
  let out = '';
  for (const ch of s) {
    if (ch === '\u0130') out += 'i';
    else out += ch.toLowerCase();
  }
  return out;
}
