import { evaluateImage, type CompiledPolicy, type ImageDecision } from '../policy/index.js';
import { formatReference } from '../reference/index.js';

/** The JSON-lines record of `registry-gate explain -o json`: a contract other tools read (DESIGN.md Interfaces). */
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
}

/** `decision` judges the final image, as for a pod template. */
export function explainImage(policy: CompiledPolicy, input: string, namespace?: string): ExplainRecord {
  const d = evaluateImage(policy, input, { judge: 'final', namespace });
  const r = d.resolved;
  return {
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
  };
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
  for (const w of record.warnings) row('warning', w);
  return lines.join('\n');
}
