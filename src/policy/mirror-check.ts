import { formatReference, type ImageReference } from '../reference/index.js';
import type { CompiledMirror, CompiledPolicy } from './compiled.js';
import type { ImageDecision } from './decision.js';
import { entryKey, imageKey } from './image-key.js';
import type { MirrorAnswer } from './mirror-answer.js';

/**
 * One question for a mirror: does `registry` serve `repository` at `reference`? Made by the pure core, asked by the
 * registry adapter (src/registry), answered with a {@link MirrorAnswer} that {@link applyMirrorAnswer} folds back
 * into the decision.
 */
export interface MirrorLookup {
  /** The image as it will be pulled (`final`), which also keys the answer within a review. */
  readonly key: string;
  /** The policy's `mirror` value that serves the image: a bounded metric label, and the words of messages. */
  readonly mirror: string;
  /** `host[:port]` of the mirror registry. */
  readonly registry: string;
  readonly repository: string;
  /** The digest when there is one (it names exactly what is pulled), else the tag (`latest` when none). */
  readonly reference: string;
  readonly byDigest: boolean;
  /** The pull secrets the Pod gets for the image, in policy order: their credentials are the node's. */
  readonly secrets: readonly string[];
  /** The policy lists the mirror in `insecureRegistries`: TLS is not verified, as on the node. */
  readonly insecure: boolean;
}

/**
 * Why a look-up is wanted: `verify` (the validating webhook, and warnings), `pin` (the mutating webhook writes the
 * digest), `explain` (asked for by `explain` / `audit --check-mirror`, whatever `verify` says).
 */
export type LookupPurpose = 'verify' | 'pin' | 'explain';

/** Whether any mirror of the policy is ever asked at admission: when none is, admission is exactly as before. */
export function asksMirrors(policy: CompiledPolicy): boolean {
  return policy.spec.mirrors.some((m) => m.verify !== 'off' || m.pin !== 'none');
}

/** A mirror whose credentials the gate checks (`GET /v2/`): one per mirror rule that verifies or pins. */
export interface MirrorTarget {
  /** The policy's `mirror` value. */
  readonly mirror: string;
  readonly registry: string;
  /** The mirror's path below the registry (`dockerhub`), '' for a whole registry: what `auths` keys match. */
  readonly repository: string;
  /** The pull secrets a Pod gets for images under the mirror, in policy order. */
  readonly secrets: readonly string[];
  readonly insecure: boolean;
}

/** Every mirror that admission asks, once each (two rules may share a mirror), with its pull secrets. */
export function verifiedMirrors(policy: CompiledPolicy): MirrorTarget[] {
  const seen = new Map<string, MirrorTarget>();
  for (const { value: m } of policy.mirrorTargets.all()) {
    if ((m.verify === 'off' && m.pin === 'none') || seen.has(m.mirror)) continue;
    const key = entryKey(m.target);
    const secrets = policy.pullSecrets
      .matchAll(key)
      .map((hit) => hit.value)
      .sort((a, b) => a.order - b.order)
      .map((s) => s.secretName);
    const slash = m.mirror.indexOf('/');
    seen.set(m.mirror, {
      mirror: m.mirror,
      registry: slash === -1 ? m.mirror : m.mirror.slice(0, slash),
      repository: slash === -1 ? '' : m.mirror.slice(slash + 1),
      secrets: [...new Set(secrets)],
      insecure: policy.insecure.matchFirst(key) !== null,
    });
  }
  return [...seen.values()];
}

/** The look-up a decision needs for `purpose`, or null: not on a mirror, not allowed, or nothing to ask. */
export function mirrorLookup(
  policy: CompiledPolicy,
  decision: ImageDecision,
  purpose: LookupPurpose,
): MirrorLookup | null {
  const rule = decision.servedBy;
  const final = decision.final;
  if (rule === null || final === null || decision.decision !== 'allow') return null;
  if (purpose === 'verify' && rule.verify === 'off') return null;
  // A digest already given is kept as it is: the validating webhook verifies it.
  if (purpose === 'pin' && (rule.pin !== 'digest' || final.digest !== null)) return null;
  return {
    key: formatReference(final),
    mirror: rule.mirror,
    registry: final.domain,
    repository: final.path,
    reference: final.digest ?? final.tag ?? 'latest',
    byDigest: final.digest !== null,
    secrets: decision.pullSecrets,
    insecure: policy.insecure.size > 0 && policy.insecure.matchFirst(imageKey(final)) !== null,
  };
}

/**
 * Folds what the mirror said into the decision, under the serving rule's `verify`, `pin` and `onError`:
 * - found: with `pin: digest`, `final` gains the digest the mirror serves (a digest already there is kept);
 * - missing: `warn` adds a warning with the command that mirrors the image, `enforce` denies `NOT_IN_MIRROR`;
 * - error: `onError: deny` denies `MIRROR_UNREACHABLE`, `allow` admits with a warning that says why;
 * - with `verify: off` (asked by `explain` only) the answer is recorded and changes nothing else.
 * `undefined` (not asked) leaves the decision as it is. Pure: the webhook, `explain` and `audit` share it.
 */
export function applyMirrorAnswer(decision: ImageDecision, answer: MirrorAnswer | undefined): ImageDecision {
  const rule = decision.servedBy;
  const final = decision.final;
  if (answer === undefined || rule === null || final === null || decision.decision !== 'allow')
    return decision;
  switch (answer.status) {
    case 'found': {
      // The warm path of every verified review: one object, nothing formatted.
      if (rule.pin !== 'digest' || final.digest !== null) return { ...decision, mirrorCheck: answer };
      return { ...decision, mirrorCheck: answer, final: { ...final, digest: answer.digest }, rewrite: true };
    }
    case 'missing': {
      if (rule.verify === 'off') return { ...decision, mirrorCheck: answer };
      if (rule.verify === 'enforce') return denied(decision, answer, 'NOT_IN_MIRROR');
      return warned(
        decision,
        answer,
        `registry-gate: ${formatReference(final)} is not in mirror ${rule.mirror} (${answer.reason}); pulls will fail until it is mirrored`,
        `registry-gate: to mirror it: ${mirrorCommand(final, rule)}`,
      );
    }
    case 'error': {
      if (rule.verify === 'off') return { ...decision, mirrorCheck: answer };
      if (rule.onError === 'deny') return denied(decision, answer, 'MIRROR_UNREACHABLE');
      return warned(
        decision,
        answer,
        `registry-gate: could not ask mirror ${rule.mirror} about ${formatReference(final)} (${answer.reason}); admitted (onError: allow)`,
      );
    }
  }
}

function warned(decision: ImageDecision, answer: MirrorAnswer, ...lines: string[]): ImageDecision {
  return { ...decision, mirrorCheck: answer, warnings: [...decision.warnings, ...lines] };
}

function denied(
  decision: ImageDecision,
  answer: MirrorAnswer,
  code: 'NOT_IN_MIRROR' | 'MIRROR_UNREACHABLE',
): ImageDecision {
  return { ...decision, mirrorCheck: answer, decision: 'deny', code, fix: null, pullSecrets: [] };
}

/**
 * Where the mirror's copy comes from: the mirror prefix of `final` replaced by the rule's source (the reverse of
 * the rewrite), by digest when there is one (skopeo takes a tag or a digest, not both), else by tag.
 */
export function upstreamOf(final: ImageReference, rule: CompiledMirror): string {
  const name = `${final.domain}/${final.path}`;
  const rest = name.startsWith(`${rule.mirror}/`) ? name.slice(rule.mirror.length + 1) : final.path;
  return oneOf({ ...final, domain: '', path: `${rule.source}/${rest}` }, 'digest');
}

/** The command that copies the image into the mirror, every platform of it (a manifest list stays one). */
export function mirrorCommand(final: ImageReference, rule: CompiledMirror): string {
  return `skopeo copy --all docker://${upstreamOf(final, rule)} docker://${oneOf(final, 'tag')}`;
}

/** The same with OpenShift's tool, for the denial message (which has room for both). */
export function ocMirrorCommand(final: ImageReference, rule: CompiledMirror): string {
  return `oc image mirror ${upstreamOf(final, rule)} ${oneOf(final, 'tag')}`;
}

/** The reference with one of tag and digest (the preferred one when both are there), `latest` when neither. */
function oneOf(ref: ImageReference, prefer: 'tag' | 'digest'): string {
  const keepTag = ref.tag !== null && (prefer === 'tag' || ref.digest === null);
  if (keepTag) return formatReference({ ...ref, digest: null });
  if (ref.digest !== null) return formatReference({ ...ref, tag: null });
  return formatReference({ ...ref, tag: 'latest' });
}
