import { Command } from 'commander';
import {
  auditObjects,
  defaultInterception,
  type AuditReport,
  type InputObject,
  type Interception,
} from '../audit/index.js';
import type { CompiledPolicy, ImageDecision } from '../policy/index.js';
import { askMirrors, checkedDecision } from './mirror-check.js';
import type { KubeReader } from '../kube/api-client.js';
import { listWorkloads } from '../kube/list-workloads.js';
import { policyFromConfigMap } from '../kube/policy-configmap.js';
import { readInputs } from './audit-input.js';
import { auditText } from './audit-text.js';
import { UsageError } from './errors.js';
import type { Io, SetExitCode } from './io.js';
import { parseOutput, parsePositive, type Output } from './options.js';
import { policyFromFile } from './policy-file.js';
import { listProgress } from './progress.js';

interface AuditFlags {
  policy?: string;
  output: Output;
  all?: boolean;
  namespace?: string;
  cluster?: boolean;
  kubeconfig?: string;
  context?: string;
  chunkSize: number;
  policyFromCluster?: boolean;
  policyNamespace: string;
  policyConfigmap: string;
  policyKey: string;
  webhookConfiguration: string;
  failOnNotIntercepted?: boolean;
  checkMirror?: boolean;
  pullSecretsDir?: string;
  mirrorCaFile?: string;
}

/**
 * `registry-gate audit`: the webhook's judgement over manifests, `kubectl get -o json|yaml` output or the live
 * cluster. Exit 0 when nothing would be denied, 1 when something would (in a namespace the webhooks judge, or
 * anywhere with --fail-on-not-intercepted), 2 when an input could not be read (the rest is still reported) or
 * the command was used wrongly.
 */
export function auditCommand(io: Io, setExitCode: SetExitCode): Command {
  return new Command('audit')
    .description(
      'report what the webhook would deny or rewrite in manifests, kubectl output or the live cluster',
    )
    .argument('[inputs...]', 'files, directories (their *.yaml, *.yml, *.json, recursively) or - for stdin')
    .option('--policy <file>', 'RegistryPolicy YAML (default: the built-in policy)')
    .option('-o, --output <format>', 'text, or json (one document)', parseOutput, 'text')
    .option('--all', 'text output: also list the images allowed as they are')
    .option(
      '-n, --namespace <ns>',
      'with --cluster: only this namespace; otherwise: the namespace of objects that name none',
    )
    .option('--cluster', 'audit the live cluster (read-only: get and list)')
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster)')
    .option('--context <name>', 'kubeconfig context')
    .option('--chunk-size <n>', 'objects per list request', parsePositive, 500)
    .option(
      '--policy-from-cluster',
      "judge with the policy installed in the cluster (the webhook's ConfigMap)",
    )
    .option(
      '--policy-namespace <ns>',
      "the gate's namespace: holds the policy ConfigMap, and no webhook judges it",
      'registry-gate-system',
    )
    .option('--policy-configmap <name>', 'name of the policy ConfigMap', 'registry-gate-policy')
    .option('--policy-key <key>', 'data key of the policy in the ConfigMap', 'policy.yaml')
    .option('--check-mirror', 'ask the mirror whether it serves each image (as the webhook would)')
    .option(
      '--pull-secrets-dir <dir>',
      'with --check-mirror: credentials, DIR/<secretName>/.dockerconfigjson',
    )
    .option('--mirror-ca-file <file>', 'with --check-mirror: PEM CA bundle trusted for mirrors')
    .option(
      '--webhook-configuration <name>',
      'with --cluster: the ValidatingWebhookConfiguration whose namespaceSelectors say which namespaces are judged',
      'registry-gate',
    )
    .option(
      '--fail-on-not-intercepted',
      "exit 1 also for denials in namespaces no webhook judges (kube-system, the gate's own, …)",
    )
    .addHelpText(
      'after',
      `
Exit codes:
  0  nothing would be denied in a namespace the webhooks judge
  1  something would be denied there (anywhere, with --fail-on-not-intercepted)
  2  a usage error, an input that could not be read (the rest is still reported), a kubeconfig or API problem`,
    )
    .action(async (inputs: string[], flags: AuditFlags) => {
      if (flags.cluster === true && inputs.length > 0)
        throw new UsageError('audit reads either inputs or --cluster, not both');
      if (flags.cluster !== true && inputs.length === 0)
        throw new UsageError('audit needs files, directories or - (stdin), or --cluster');
      if (flags.policy !== undefined && flags.policyFromCluster === true)
        throw new UsageError('--policy and --policy-from-cluster exclude each other');

      const needsCluster = flags.cluster === true || flags.policyFromCluster === true;
      // Loaded only when asked for: the client library is most of the CLI's start-up time. A KubeApiError
      // (no kubeconfig, RBAC, unreachable) reaches runCli, which prints its one line and exits 2.
      const api = needsCluster
        ? (await import('../kube/api-client.js')).connect({
            kubeconfig: flags.kubeconfig,
            context: flags.context,
          })
        : null;
      const policy = await choosePolicy(api, flags);
      const { objects, problems } =
        api !== null && flags.cluster === true
          ? { objects: await listCluster(api, flags, io), problems: [] }
          : await readInputs(inputs, io.stdin);
      const interception =
        api !== null && flags.cluster === true ? await clusterInterception(api, flags, io) : undefined;
      const defaultNamespace = flags.cluster === true ? undefined : flags.namespace;
      const adjust =
        flags.checkMirror === true ? await mirrorAdjust(policy, objects, defaultNamespace, flags) : undefined;
      const report = auditObjects(policy, objects, {
        defaultNamespace,
        interception: interception ?? defaultInterception(flags.policyNamespace),
        adjust,
      });
      const all = { ...report, problems: [...problems, ...report.problems] };
      writeReport(io, withProblemCount(all), flags);
      const denied = report.findings.some(
        (f) => f.decision === 'deny' && (f.intercepted || flags.failOnNotIntercepted === true),
      );
      setExitCode(all.problems.length > 0 ? 2 : denied ? 1 : 0);
    });
}

/**
 * `--check-mirror`: a first pass collects every distinct decision, the mirrors are asked about them (as explain
 * and the webhook ask), and the report's pass folds the answers in.
 */
async function mirrorAdjust(
  policy: CompiledPolicy,
  objects: readonly InputObject[],
  defaultNamespace: string | undefined,
  flags: AuditFlags,
): Promise<(d: ImageDecision) => ImageDecision> {
  const seen = new Set<ImageDecision>();
  auditObjects(policy, objects, { defaultNamespace, adjust: (d) => (seen.add(d), d) });
  const answers = await askMirrors(policy, [...seen], flags);
  return (d) => checkedDecision(policy, d, answers).decision;
}

async function choosePolicy(api: KubeReader | null, flags: AuditFlags): Promise<CompiledPolicy> {
  if (flags.policyFromCluster !== true || api === null) return policyFromFile(flags.policy);
  return policyFromConfigMap(api, {
    namespace: flags.policyNamespace,
    name: flags.policyConfigmap,
    key: flags.policyKey,
  });
}

/** The namespaces the cluster's webhooks judge; a fallback that had to be used is said on stderr. */
async function clusterInterception(api: KubeReader, flags: AuditFlags, io: Io): Promise<Interception> {
  const { readInterception } = await import('../kube/webhook-interception.js');
  const read = await readInterception(api, {
    configuration: flags.webhookConfiguration,
    gateNamespace: flags.policyNamespace,
    namespace: flags.namespace,
  });
  if (read.note !== null) io.stderr(`registry-gate audit: ${read.note}\n`);
  return read.interception;
}

async function listCluster(api: KubeReader, flags: AuditFlags, io: Io): Promise<InputObject[]> {
  const progress = listProgress(io.stderr, io.stderrIsTerminal === true);
  try {
    return await listWorkloads(api, {
      namespace: flags.namespace,
      chunkSize: flags.chunkSize,
      onProgress: progress.update,
    });
  } finally {
    progress.finish();
  }
}

function writeReport(io: Io, report: AuditReport, flags: AuditFlags): void {
  for (const p of report.problems) io.stderr(`registry-gate audit: ${p.source ?? '(input)'}: ${p.message}\n`);
  if (flags.output === 'json') {
    const document = { apiVersion: 'registry-gate.io/v1alpha1', kind: 'AuditReport', ...report };
    io.stdout(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    io.stdout(auditText(report, flags.all === true));
  }
}

function withProblemCount(report: AuditReport): AuditReport {
  return { ...report, summary: { ...report.summary, problems: report.problems.length } };
}
