import { DecisionCache, evaluateWorkload, type Finding, type ImageList } from '../engine/index.js';
import type { CompiledPolicy, ImageDecision, Judge, MirrorAnswer, Verdict } from '../policy/index.js';
import { formatReference } from '../reference/index.js';
import { controllerOf, identityOf } from './identity.js';
import { defaultInterception, type Interception } from './interception.js';
import type { InputProblem, InputObject } from './objects.js';
import { topOwners, type Workload } from './owners.js';

/**
 * One image of one workload, as the report shows it: every object of the workload that carries the same image in
 * the same container (500 replicas, the ReplicaSet and its Deployment) collapses into one finding, with a count
 * per kind in `carriers`.
 */
export interface AuditFinding {
  readonly namespace: string | null;
  readonly kind: string;
  readonly name: string;
  /** Where the first object carrying it was read (`app.yaml:12`), or null. */
  readonly source: string | null;
  readonly list: ImageList;
  readonly container: string;
  /** `spec.template.spec.containers[0] "web"` of the first carrier. */
  readonly location: string;
  readonly image: string;
  /** `final` for templates and manifests, `as-written` for Pods that already exist. */
  readonly judged: Judge;
  readonly decision: Verdict;
  /** Allowed, but only once the mutating webhook has rewritten it to `final`. */
  readonly rewrite: boolean;
  readonly final: string | null;
  readonly mirror: string | null;
  readonly code: string | null;
  readonly rule: string | null;
  readonly fix: string | null;
  /** The grammar error of an invalid reference. */
  readonly error: string | null;
  readonly pullSecrets: readonly string[];
  readonly warnings: readonly string[];
  /** Kind → how many objects of the workload carry this image in this container. */
  readonly carriers: Readonly<Record<string, number>>;
  /**
   * Whether the webhooks see the workload's namespace. A finding where they do not is reported apart and counted
   * in none of the summary's verdicts: nothing would deny or rewrite it.
   */
  readonly intercepted: boolean;
  /** With `--check-mirror`: what the mirror said about `final` (absent when it was not asked). */
  readonly mirrorCheck?: MirrorAnswer;
}

export interface AuditSummary {
  /** Pod-bearing objects evaluated. */
  readonly objects: number;
  /** Top owners they were grouped under. */
  readonly workloads: number;
  /** Image fields evaluated, over all objects. */
  readonly images: number;
  readonly findings: number;
  readonly wouldDeny: number;
  readonly wouldRewrite: number;
  readonly exempt: number;
  /** Allowed as they stand. */
  readonly allowed: number;
  /** Objects of kinds without a pod spec (Services, ConfigMaps, …). */
  readonly ignored: number;
  readonly problems: number;
}

export interface AuditReport {
  readonly summary: AuditSummary;
  /** Which rules said what the webhooks see, and how many findings are in namespaces they do not. */
  readonly interception: { readonly by: string; readonly notIntercepted: number };
  readonly findings: readonly AuditFinding[];
  readonly problems: readonly InputProblem[];
}

export interface AuditOptions {
  /** The namespace of objects that name none (`kubectl apply -n`), for namespace exemptions. */
  readonly defaultNamespace?: string | undefined;
  /** Which namespaces the webhooks see; by default, those manifests/base selects. */
  readonly interception?: Interception | undefined;
  /** Applied to every decision before it is reported: `--check-mirror` folds the mirror's answers in here. */
  readonly adjust?: ((decision: ImageDecision) => ImageDecision) | undefined;
}

/** The namespace manifests/base installs the gate in. */
const DEFAULT_GATE_NAMESPACE = 'registry-gate-system';

/**
 * The audit: every pod-bearing object judged as admission would (the engine's `evaluateWorkload`), grouped under its top
 * owner, one finding per distinct image of each container. Pure: the CLI hands it objects read from files, stdin
 * or the cluster. Findings come sorted by namespace, workload, container and image, so reports diff well.
 */
export function auditObjects(
  policy: CompiledPolicy,
  objects: readonly InputObject[],
  options: AuditOptions = {},
): AuditReport {
  const problems: InputProblem[] = [];
  const evaluated: { source: string | null; findings: readonly Finding[]; judged: Judge; kind: string }[] =
    [];
  const owned: Parameters<typeof topOwners>[0][number][] = [];
  let ignored = 0;
  let images = 0;
  const interception = options.interception ?? defaultInterception(DEFAULT_GATE_NAMESPACE);
  // Every distinct image decided once for the whole run: a cluster repeats a few hundred images across tens of
  // thousands of containers.
  const cached = new DecisionCache(Number.POSITIVE_INFINITY).for(0, policy);
  const { adjust } = options;
  const decide: typeof cached =
    adjust === undefined ? cached : (image, context) => adjust(cached(image, context));
  for (const { object, source } of objects) {
    const identity = identityOf(object);
    const namespace = identity.namespace ?? options.defaultNamespace;
    const result = evaluateWorkload(
      policy,
      { group: identity.group, kind: identity.kind, object, previous: null, namespace },
      // A Pod that exists (it has a uid: it came from a cluster) is judged as it stands, as the validating
      // webhook judges Pods: nothing will rewrite it any more. A Pod manifest is judged as the webhook will leave
      // it once applied (mutation runs before validation), so a chart's test Pod with `busybox` is a rewrite.
      { podJudge: identity.uid === null ? 'final' : 'as-written' },
      decide,
    );
    if (result.kind === 'skipped') {
      ignored++;
      continue;
    }
    if (result.kind === 'invalid') {
      problems.push({ source, message: `${identity.kind} ${identity.name}: ${result.reason}` });
      continue;
    }
    images += result.findings.length;
    evaluated.push({ source, findings: result.findings, judged: result.judged, kind: identity.kind });
    owned.push({
      identity: { ...identity, namespace: namespace ?? null },
      controller: controllerOf(object),
    });
  }

  const workloads = topOwners(owned);
  const byKey = new Map<string, { finding: AuditFinding; carriers: Record<string, number> }>();
  evaluated.forEach((object, i) => {
    const workload = workloads[i] as Workload;
    for (const f of object.findings) {
      const key = [workload.key, f.site.list, f.site.name, f.site.image, object.judged].join('\u0000');
      const known = byKey.get(key);
      if (known !== undefined) {
        known.carriers[object.kind] = (known.carriers[object.kind] ?? 0) + 1;
        continue;
      }
      const carriers = { [object.kind]: 1 };
      const intercepted = workload.namespace === null || interception.intercepts(workload.namespace);
      byKey.set(key, {
        finding: toFinding(workload, object.source, object.judged, f, carriers, intercepted),
        carriers,
      });
    }
  });

  const findings = [...byKey.values()].map((v) => v.finding).sort(compareFindings);
  const count = (p: (f: AuditFinding) => boolean): number =>
    findings.filter((f) => f.intercepted && p(f)).length;
  return {
    summary: {
      objects: evaluated.length,
      workloads: new Set(workloads.map((w) => w.key)).size,
      images,
      findings: findings.length,
      wouldDeny: count((f) => f.decision === 'deny'),
      wouldRewrite: count((f) => f.decision === 'allow' && f.rewrite),
      exempt: count((f) => f.decision === 'exempt'),
      allowed: count((f) => f.decision === 'allow' && !f.rewrite),
      ignored,
      problems: problems.length,
    },
    interception: { by: interception.by, notIntercepted: findings.filter((f) => !f.intercepted).length },
    findings,
    problems,
  };
}

function toFinding(
  workload: Workload,
  source: string | null,
  judged: Judge,
  { site, decision: d }: Finding,
  carriers: Record<string, number>,
  intercepted: boolean,
): AuditFinding {
  return {
    namespace: workload.namespace,
    kind: workload.kind,
    name: workload.name,
    source,
    list: site.list,
    container: site.name,
    location: site.location,
    image: site.image,
    judged,
    decision: d.decision,
    rewrite: d.rewrite,
    final: d.final === null ? null : formatReference(d.final),
    mirror: d.mirror?.source ?? null,
    code: d.code,
    rule: d.rule,
    fix: d.fix,
    error: d.error?.message ?? null,
    pullSecrets: d.pullSecrets,
    warnings: d.warnings,
    carriers,
    intercepted,
    ...(d.mirrorCheck === null ? {} : { mirrorCheck: d.mirrorCheck }),
  };
}

const LIST_ORDER: Record<ImageList, number> = {
  initContainers: 0,
  containers: 1,
  ephemeralContainers: 2,
  volumes: 3,
};

function compareFindings(a: AuditFinding, b: AuditFinding): number {
  return (
    byCodeUnit(a.namespace ?? '', b.namespace ?? '') ||
    byCodeUnit(a.kind, b.kind) ||
    byCodeUnit(a.name, b.name) ||
    LIST_ORDER[a.list] - LIST_ORDER[b.list] ||
    byCodeUnit(a.container, b.container) ||
    byCodeUnit(a.image, b.image) ||
    byCodeUnit(a.judged, b.judged)
  );
}

/** The same order on every machine (localeCompare depends on the locale). */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
