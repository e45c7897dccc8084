import {
  formatReference,
  namesRegistry,
  parseNormalizedReference,
  parseReference,
  type ImageReference,
} from '../reference/index.js';
import type { CompiledMirror, CompiledPolicy } from './compiled.js';
import { findBlock } from './block-match.js';
import type { ImageDecision, Judge, ViolationCode } from './decision.js';
import { canonicalHost } from './host.js';
import { imageKey, pulledByDigestKey } from './image-key.js';

export interface ImageContext {
  readonly judge: Judge;
  /** The namespace of the workload, for namespace exemptions; absent outside a cluster. */
  readonly namespace?: string | undefined;
}

/**
 * Decides one image, as docs/policy.md "How one image is decided" describes: parse, resolve short names, rewrite to
 * the mirror, judge the registry, pick pull secrets. Pure: the webhook, `explain` and `audit` all call this.
 *
 * @example evaluateImage(policy, 'nginx:1.27', { judge: 'final' }).final // registry.mycorp.com/dockerhub/library/nginx:1.27
 */
export function evaluateImage(policy: CompiledPolicy, input: string, context: ImageContext): ImageDecision {
  const parsed = parseNormalizedReference(input);
  if (!parsed.ok) {
    return denial(input, { code: 'INVALID_IMAGE_REF', error: parsed.error });
  }
  const pulled = parsed.ref;
  const resolved = resolveShortName(policy, input, pulled);
  const base = context.judge === 'final' ? resolved : pulled;
  const unchanged = {
    input,
    error: null,
    resolved,
    final: base,
    mirror: null,
    servedBy: null,
    mirrorCheck: null,
    rewrite: false,
    fix: null,
  };

  const exempt = (rule: string): ImageDecision => ({
    ...unchanged,
    decision: 'exempt',
    code: null,
    rule,
    pullSecrets: [],
    warnings: [],
  });
  if (context.namespace !== undefined && policy.exemptNamespaces.has(context.namespace)) {
    return exempt(`namespace ${context.namespace}`);
  }
  const exemption = policy.exemptImages.matchFirst(pulledByDigestKey(imageKey(base)));
  if (exemption !== null) return exempt(exemption.value);

  const mirrored = context.judge === 'final' ? rewriteToMirror(policy, resolved) : null;
  const final = mirrored?.ref ?? base;
  const finalText = formatReference(final);
  if (mirrored !== null) {
    // A long source path replaced by a longer mirror path can pass the 255-character limit.
    const check = parseReference(finalText);
    if (!check.ok) {
      return denial(input, {
        code: 'INVALID_IMAGE_REF',
        error: {
          code: check.error.code,
          message: `rewriting to mirror "${mirrored.rule.mirror}" gives an invalid reference: ${check.error.message}`,
        },
        resolved,
      });
    }
  }

  const key = imageKey(final);
  const verdict = judgeRegistry(policy, key);
  const warnings: string[] = [];
  const insecure = policy.insecure.matchFirst(key);
  if (insecure !== null)
    warnings.push(`${finalText} is pulled from an insecure registry ("${insecure.value}")`);
  const rewrite = finalText !== formatReference(pulled);

  const judged = {
    input,
    error: null,
    resolved,
    final,
    mirror: mirrored?.rule ?? null,
    servedBy: mirrored?.rule ?? policy.mirrorTargets.matchFirst(key)?.value ?? null,
    mirrorCheck: null,
    rewrite,
    code: verdict.code,
    rule: verdict.rule,
    warnings,
  };
  if (verdict.code !== null) {
    return { ...judged, decision: 'deny', fix: suggestFix(policy, resolved, final), pullSecrets: [] };
  }
  return { ...judged, decision: 'allow', fix: null, pullSecrets: pullSecretsFor(policy, final) };
}

function denial(
  input: string,
  what: { code: ViolationCode; error: ImageDecision['error']; resolved?: ImageReference },
): ImageDecision {
  return {
    input,
    error: what.error,
    resolved: what.resolved ?? null,
    final: null,
    mirror: null,
    servedBy: null,
    mirrorCheck: null,
    rewrite: false,
    decision: 'deny',
    code: what.code,
    rule: null,
    fix: null,
    pullSecrets: [],
    warnings: [],
  };
}

/**
 * Step 2: a reference without registry is resolved by an exact alias (`shortnames.conf`), else placed on
 * `shortNames.registry`; on Docker Hub the normal normalization (with `library/`) already did that.
 */
function resolveShortName(policy: CompiledPolicy, input: string, pulled: ImageReference): ImageReference {
  if (namesRegistry(input)) return pulled;
  const nameEnd = input.search(/[:@]/);
  const shortName = nameEnd === -1 ? input : input.slice(0, nameEnd);
  const alias = policy.aliases.get(shortName);
  if (alias !== undefined)
    return { domain: alias.domain, path: alias.path, tag: pulled.tag, digest: pulled.digest };
  if (canonicalHost(policy.shortNameRegistry) === 'docker.io') return pulled;
  return { domain: policy.shortNameRegistry, path: shortName, tag: pulled.tag, digest: pulled.digest };
}

/**
 * Step 3: the longest matching source wins; among the entries for that one source, the one for this kind of
 * pull (by digest, by tag). When that source has no entry for this kind, the image stays as it is, as nodes do
 * with registries.conf: it does not fall back to a shorter source. An image already on a mirror is left alone.
 */
function rewriteToMirror(
  policy: CompiledPolicy,
  ref: ImageReference,
): { rule: CompiledMirror; ref: ImageReference } | null {
  const key = imageKey(ref);
  if (policy.mirrorTargets.matchFirst(key) !== null) return null;
  const matches = policy.mirrors.matchAll(key);
  const longest = matches[0];
  if (longest === undefined) return null;
  const byDigest = ref.digest !== null;
  const rule = matches
    .filter((m) => m.entry.port === longest.entry.port && m.entry.path.length === longest.entry.path.length)
    .map((m) => m.value)
    .find((m) => (byDigest ? !m.tagOnly : !m.digestOnly));
  if (rule === undefined) return null;
  const slash = rule.mirror.indexOf('/');
  const domain = slash === -1 ? rule.mirror : rule.mirror.slice(0, slash);
  const path = [
    ...(slash === -1 ? [] : [rule.mirror.slice(slash + 1)]),
    ...ref.path.split('/').slice(rule.sourceDepth),
  ];
  return { rule, ref: { domain, path: path.join('/'), tag: ref.tag, digest: ref.digest } };
}

function judgeRegistry(
  policy: CompiledPolicy,
  key: ReturnType<typeof imageKey>,
): { code: ViolationCode | null; rule: string | null } {
  const blocked = policy.blocked === null ? null : findBlock(policy.blocked, key);
  if (blocked) return { code: 'REGISTRY_BLOCKED', rule: blocked.value };
  if (policy.allowed === null) return { code: null, rule: null };
  const allowed = policy.allowed.matchFirst(pulledByDigestKey(key));
  return allowed ? { code: null, rule: allowed.value } : { code: 'REGISTRY_NOT_ALLOWED', rule: null };
}

/**
 * The reference the user should write instead, when the policy would allow it: the mirror's, or else the short
 * name as the policy resolves it (a Pod that kept `tools:2` where an alias names an allowed registry).
 */
function suggestFix(policy: CompiledPolicy, resolved: ImageReference, denied: ImageReference): string | null {
  const candidate = rewriteToMirror(policy, resolved)?.ref ?? resolved;
  if (formatReference(candidate) === formatReference(denied)) return null;
  return judgeRegistry(policy, imageKey(candidate)).code === null ? formatReference(candidate) : null;
}

/** Step 5: every secret whose registry prefix covers the final image, once, in policy order. */
function pullSecretsFor(policy: CompiledPolicy, final: ImageReference): string[] {
  const hits = policy.pullSecrets.matchAll(imageKey(final)).map((m) => m.value);
  hits.sort((a, b) => a.order - b.order);
  return [...new Set(hits.map((h) => h.secretName))];
}
