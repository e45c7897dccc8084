import { evaluateWorkload, type Decide } from '../engine/index.js';
import type { CompiledPolicy, ImageDecision } from '../policy/index.js';
import { formatReference, namesRegistry } from '../reference/index.js';

/** The JSON-lines record of `registry-gate explain -o json`: a contract other tools read (docs/architecture.md, "Contracts"). */
export interface ExplainRecord {
  input: string;
  valid: boolean;
  error: { code: string; message: string } | null;
  resolved: string | null;
  domain: string | null;
  path: string | null;
  tag: string | null;
  digest: string | null;
  final: string | null;
  mirror: string | null;
  decision: ImageDecision['decision'];
  code: string | null;
  rule: string | null;
  pullSecrets: string[];
  warnings: string[];
  /** With `--check-mirror` only (docs/architecture.md, "Contracts"): what the mirror said about `final`. */
  mirrorCheck?: MirrorCheckRecord;
  /**
   * Where the short-name resolution, the mirror and the deciding rule came from (`mirror: ImageDigestMirrorSet/…
   * spec.imageDigestMirrors[0].mirrors[0]`), read from the `# origin:` comments `policy import` writes; empty for
   * a policy without them. Present only when not empty, after the contract fields, which keep their order: the
   * output for a policy without origins stays exactly the contract.
   */
  origins?: string[];
}

/** `mirrorCheck` of an explain record: `skipped` when the image was not asked (and why, in `reason`). */
export interface MirrorCheckRecord {
  status: 'found' | 'missing' | 'error' | 'skipped';
  digest: string | null;
  httpStatus: number | null;
  reason: string | null;
}

/** Field path → origin comments of the policy file (see policy-import/policy-origins.ts). */
export type PolicyOrigins = ReadonlyMap<string, readonly string[]>;

/**
 * `decision` judges the final image, as for a pod template (the explain contract, docs/architecture.md): the engine is asked
 * exactly that, about a one-container PodTemplate, so explain and the webhooks cannot disagree.
 */
export function explainImage(
  policy: CompiledPolicy,
  input: string,
  namespace?: string,
  origins: PolicyOrigins = new Map(),
  decide?: Decide,
): ExplainRecord {
  return explainDecision(policy, decideAsTemplate(policy, input, namespace, decide), origins);
}

/** The record of a decision already made (by `explainImage`, or with a mirror's answer folded in). */
export function explainDecision(
  policy: CompiledPolicy,
  d: ImageDecision,
  origins: PolicyOrigins = new Map(),
  mirrorCheck?: MirrorCheckRecord,
): ExplainRecord {
  const input = d.input;
  const r = d.resolved;
  const record: ExplainRecord = {
    input,
    valid: d.error === null,
    error: d.error === null ? null : { code: d.error.code, message: d.error.message },
    resolved: r ? formatReference(r) : null,
    domain: r?.domain ?? null,
    path: r?.path ?? null,
    tag: r?.tag ?? null,
    digest: r?.digest ?? null,
    final: d.final ? formatReference(d.final) : null,
    mirror: d.mirror?.source ?? null,
    decision: d.decision,
    code: d.code,
    rule: d.rule,
    pullSecrets: [...d.pullSecrets],
    warnings: [...d.warnings],
    ...(mirrorCheck === undefined ? {} : { mirrorCheck }),
  };
  const from = originsOf(policy, input, d, origins);
  return from.length === 0 ? record : { ...record, origins: from };
}

/** The engine's decision for one image, asked as a one-container PodTemplate (what explain judges). */
export function decideAsTemplate(
  policy: CompiledPolicy,
  image: string,
  namespace: string | undefined,
  decide: Decide | undefined,
): ImageDecision {
  const template = { template: { spec: { containers: [{ name: 'explain', image }] } } };
  const result = evaluateWorkload(
    policy,
    { group: '', kind: 'PodTemplate', object: template, previous: null, namespace },
    { podJudge: 'final' },
    decide,
  );
  const finding = result.kind === 'evaluated' ? result.findings[0] : undefined;
  // A PodTemplate with one string image always gives one finding; anything else is a bug in the engine.
  if (finding === undefined) throw new Error(`the engine gave no decision for "${image}" (${result.kind})`);
  return finding.decision;
}

/** The field paths of the rules that shaped a decision, each with the origins recorded for it. */
function originsOf(
  policy: CompiledPolicy,
  input: string,
  d: ImageDecision,
  origins: PolicyOrigins,
): string[] {
  if (origins.size === 0 || d.error !== null) return [];
  const paths: [string, string][] = [];
  if (!namesRegistry(input)) {
    const nameEnd = input.search(/[:@]/);
    const shortName = nameEnd === -1 ? input : input.slice(0, nameEnd);
    paths.push(
      policy.aliases.has(shortName)
        ? ['short name', `spec.shortNames.aliases.${shortName}`]
        : ['short name', 'spec.shortNames.registry'],
    );
  }
  if (d.mirror !== null) paths.push(['mirror', `spec.mirrors[${d.mirror.index}]`]);
  if (d.rule !== null) {
    const { allowedRegistries, blockedRegistries } = policy.spec.registrySources;
    const list = d.code === 'REGISTRY_BLOCKED' ? 'blockedRegistries' : 'allowedRegistries';
    const index =
      (list === 'blockedRegistries' ? blockedRegistries : allowedRegistries)?.indexOf(d.rule) ?? -1;
    if (index !== -1) paths.push(['rule', `spec.registrySources.${list}[${index}]`]);
  }
  return paths.flatMap(([what, path]) => (origins.get(path) ?? []).map((o) => `${what}: ${o}`));
}

/** One block per image for people: input -> resolved -> final, what decided, secrets and warnings. */
export function explainText(record: ExplainRecord): string {
  const lines = [record.input === '' ? '(empty)' : record.input];
  const row = (label: string, value: string): void => {
    lines.push(`  ${label.padEnd(9)} ${value}`);
  };
  if (!record.valid) {
    row('invalid', `${record.error?.message ?? ''} (${record.error?.code ?? ''})`);
    row('decision', 'deny INVALID_IMAGE_REF');
    return lines.join('\n');
  }
  row('resolved', record.resolved ?? '');
  const how =
    record.mirror !== null
      ? `mirror of ${record.mirror}`
      : record.final === record.resolved
        ? 'no rewrite'
        : 'short name';
  row('final', `${record.final ?? ''} (${how})`);
  const why = record.rule === null ? '' : ` by "${record.rule}"`;
  row(
    'decision',
    record.decision === 'deny' ? `deny ${record.code ?? ''}${why}` : `${record.decision}${why}`,
  );
  if (record.pullSecrets.length > 0) row('secrets', record.pullSecrets.join(', '));
  const check = record.mirrorCheck;
  if (check !== undefined) {
    // A missing or error reason already names its HTTP status.
    row(
      'mirror',
      check.status === 'found'
        ? `found ${check.digest ?? ''} (HTTP ${check.httpStatus ?? 200})`
        : `${check.status}: ${check.reason ?? ''}`,
    );
  }
  for (const w of record.warnings) row('warning', w);
  for (const o of record.origins ?? []) row('origin', o);
  return lines.join('\n');
}
