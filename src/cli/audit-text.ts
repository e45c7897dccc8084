import type { AuditFinding, AuditReport } from '../audit/index.js';

interface Section {
  readonly title: string;
  readonly select: (f: AuditFinding) => boolean;
  readonly lastColumn: string;
  readonly last: (f: AuditFinding) => string;
}

const SECTIONS: readonly Section[] = [
  {
    title: 'WOULD DENY',
    select: (f) => f.intercepted && f.decision === 'deny',
    lastColumn: 'REASON',
    last: denialReason,
  },
  {
    title: 'WOULD REWRITE',
    select: (f) => f.intercepted && f.decision === 'allow' && f.rewrite,
    lastColumn: 'FINAL IMAGE',
    last: (f) => f.final ?? '',
  },
  {
    title: 'EXEMPT',
    select: (f) => f.intercepted && f.decision === 'exempt',
    lastColumn: 'EXEMPTION',
    last: (f) => f.rule ?? '',
  },
  {
    title: 'ALLOWED AS THEY ARE',
    select: (f) => f.intercepted && f.decision === 'allow' && !f.rewrite,
    lastColumn: 'RULE',
    last: (f) => f.rule ?? '',
  },
  {
    // Namespaces no webhook sees: what they would get, apart, so that they neither hide nor fail the audit.
    title: 'NOT INTERCEPTED',
    select: (f) => !f.intercepted,
    lastColumn: 'IF INTERCEPTED',
    last: (f) =>
      f.decision === 'deny'
        ? `would deny: ${denialReason(f)}`
        : f.decision === 'exempt'
          ? `exempt: ${f.rule ?? ''}`
          : f.rewrite
            ? `would rewrite: ${f.final ?? ''}`
            : 'allowed',
  },
];

/** Cells wider than this push their row out instead of widening the whole column. */
const MAX_COLUMN = 48;

/**
 * The report for people: what would break first, then what would change, then the rest. Within a section the
 * rows are sorted by namespace and workload, and a namespace or workload is written only where it changes, so
 * thousands of rows stay scannable. Images allowed as they stand are only counted unless `all` is set.
 */
export function auditText(report: AuditReport, all: boolean): string {
  const out: string[] = [];
  for (const section of SECTIONS) {
    // Outside the webhooks' reach only what would change matters, unless everything is asked for.
    const listed =
      section.title === 'NOT INTERCEPTED' && !all
        ? (f: AuditFinding) => section.select(f) && (f.decision === 'deny' || f.rewrite)
        : section.select;
    const rows = report.findings.filter(listed);
    if (rows.length === 0) continue;
    if (!all && section.title === 'ALLOWED AS THEY ARE') {
      const workloads = new Set(rows.map((f) => `${f.namespace ?? ''}/${f.kind}/${f.name}`)).size;
      out.push(
        `ALLOWED AS THEY ARE: ${rows.length} ${plural(rows.length, 'image')} in ${workloads} ${plural(workloads, 'workload')} (--all lists them)`,
        '',
      );
      continue;
    }
    out.push(`${section.title} (${rows.length})`, ...table(rows, section));
    if (section.title === 'NOT INTERCEPTED') {
      out.push(
        `(the webhooks do not see these namespaces, by ${report.interception.by}; their denials fail the audit only with --fail-on-not-intercepted)`,
      );
    }
    out.push('');
  }
  out.push(summaryLine(report));
  return `${out.join('\n')}\n`;
}

function table(rows: readonly AuditFinding[], section: Section): string[] {
  const header = ['NAMESPACE', 'WORKLOAD', 'CONTAINER', 'SEEN IN', 'IMAGE', section.lastColumn];
  const cells: string[][] = [];
  let previous: AuditFinding | undefined;
  for (const run of runsOfAlike(rows, section)) {
    const f = run[0] as AuditFinding;
    const last = run[run.length - 1] as AuditFinding;
    const sameNamespace = previous !== undefined && previous.namespace === f.namespace;
    const sameWorkload =
      run.length === 1 && sameNamespace && previous?.kind === f.kind && previous.name === f.name;
    const workload =
      run.length === 1
        ? `${f.kind}/${f.name}`
        : `${run.length} ${plural(run.length, f.kind)}: ${f.name} … ${last.name}`;
    cells.push([
      sameNamespace ? '' : (f.namespace ?? '(none)'),
      sameWorkload ? '' : workload,
      containerCell(f),
      seenIn(f),
      f.image,
      section.last(f),
    ]);
    previous = last;
  }
  // Manifests have no owned objects: there the column would only repeat the workload's kind.
  if (rows.every(isAlone)) for (const row of [header, ...cells]) row.splice(3, 1);
  const widths = header.map((h, i) =>
    Math.min(MAX_COLUMN, Math.max(h.length, ...cells.map((row) => (row[i] ?? '').length))),
  );
  const line = (row: readonly string[]): string =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)];
}

/** Runs of this many workloads or more that differ only by name are one row. */
const COLLAPSE_AT = 3;

/**
 * Splits sorted rows into runs to print as one row: 260 bare Pods of one namespace with the same image and the
 * same verdict read better as `260 Pods: solo-000 … solo-259` than as 260 lines. Only single-object workloads
 * of the same kind collapse (a Deployment's row already counts its Pods); `-o json` keeps every finding.
 */
function runsOfAlike(rows: readonly AuditFinding[], section: Section): AuditFinding[][] {
  const key = (f: AuditFinding): string | null =>
    isAlone(f) ? [f.namespace, f.kind, f.list, f.container, f.image, section.last(f)].join('\u0000') : null;
  const runs: AuditFinding[][] = [];
  let current: AuditFinding[] = [];
  let currentKey: string | null = null;
  const flush = (): void => {
    if (current.length >= COLLAPSE_AT) runs.push(current);
    else runs.push(...current.map((f) => [f]));
    current = [];
  };
  for (const f of rows) {
    const k = key(f);
    if (k === null || k !== currentKey) {
      flush();
      currentKey = k;
    }
    current.push(f);
  }
  flush();
  return runs;
}

/** A finding carried by its workload alone: a bare Pod, a manifest, a controller without owned objects listed. */
function isAlone(f: AuditFinding): boolean {
  return Object.keys(f.carriers).length === 1 && f.carriers[f.kind] === 1;
}

const LIST_PREFIX: Record<AuditFinding['list'], string> = {
  containers: '',
  initContainers: 'init:',
  ephemeralContainers: 'ephemeral:',
  volumes: 'volume:',
};

function containerCell(f: AuditFinding): string {
  return `${LIST_PREFIX[f.list]}${f.container === '' ? '(unnamed)' : f.container}`;
}

/**
 * Which objects of the workload carry the image: `Deployment+ReplicaSet` (the templates, judged as their Pods
 * will be rewritten) apart from `512 Pods` (running as they are), so the two rows of one container read apart.
 */
function seenIn(f: AuditFinding): string {
  return Object.entries(f.carriers)
    .map(([kind, n]) => (n === 1 ? kind : `${n} ${plural(n, kind)}`))
    .join('+');
}

function denialReason(f: AuditFinding): string {
  if (f.code === 'INVALID_IMAGE_REF') return `INVALID_IMAGE_REF: ${f.error ?? 'invalid reference'}`;
  const resolved = f.final !== null && f.final !== f.image ? ` ${f.final}` : '';
  const rule = f.code === 'REGISTRY_BLOCKED' && f.rule !== null ? ` by "${f.rule}"` : '';
  const fix = f.fix === null ? '' : `; use ${f.fix}`;
  return `${f.code ?? 'DENIED'}${rule}${resolved ? ':' + resolved : ''}${fix}`;
}

function summaryLine(report: AuditReport): string {
  const s = report.summary;
  const parts = [
    `objects ${s.objects}`,
    `workloads ${s.workloads}`,
    `images ${s.images}`,
    `would-deny ${s.wouldDeny}`,
    `would-rewrite ${s.wouldRewrite}`,
    `exempt ${s.exempt}`,
    `allowed ${s.allowed}`,
  ];
  if (report.interception.notIntercepted > 0)
    parts.push(`not intercepted ${report.interception.notIntercepted}`);
  if (s.ignored > 0) parts.push(`ignored ${s.ignored} (no pod spec)`);
  if (s.problems > 0) parts.push(`problems ${s.problems}`);
  return `Summary: ${parts.join(', ')}`;
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
