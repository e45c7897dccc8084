import { Command, InvalidArgumentError } from 'commander';
import { auditObjects, type AuditReport, type SourcedObject } from '../audit/index.js';
import type { CompiledPolicy, ImageDecision } from '../policy/index.js';
import { askMirrors, checkedDecision } from './mirror-check.js';
import type { KubeReader } from '../kube/api-client.js';
import { KubeApiError } from '../kube/api-error.js';
import { listWorkloads } from '../kube/list-workloads.js';
import { policyFromConfigMap } from '../kube/policy-configmap.js';
import { readInputs } from './audit-input.js';
import { auditText } from './audit-text.js';
import { policyFromFile, UsageError } from './policy-file.js';
import { listProgress } from './progress.js';

export interface AuditIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdin: () => Promise<string>;
  /** Whether stderr is a terminal (a redrawn progress bar) or not (plain lines). */
  readonly stderrIsTerminal?: boolean;
}

interface AuditFlags {
  policy?: string;
  output: 'text' | 'json';
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
  checkMirror?: boolean;
  pullSecretsDir?: string;
  mirrorCaFile?: string;
}

/**
 * `registry-gate audit`: the webhook's judgement over manifests, `kubectl get -o json|yaml` output or the live
 * cluster. Exit 0 when nothing would be denied, 1 when something would, 2 when an input could not be read (the
 * rest is still reported) or the command was used wrongly.
 */
export function auditCommand(io: AuditIo, setExitCode: (code: number) => void): Command {
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
    .option('--chunk-size <n>', 'objects per list request', parseChunkSize, 500)
    .option(
      '--policy-from-cluster',
      "judge with the policy installed in the cluster (the webhook's ConfigMap)",
    )
    .option('--policy-namespace <ns>', 'namespace of the policy ConfigMap', 'registry-gate-system')
    .option('--policy-configmap <name>', 'name of the policy ConfigMap', 'registry-gate-policy')
    .option('--policy-key <key>', 'data key of the policy in the ConfigMap', 'policy.yaml')
    .option('--check-mirror', 'ask the mirror whether it serves each image (as the webhook would)')
    .option(
      '--pull-secrets-dir <dir>',
      'with --check-mirror: credentials, DIR/<secretName>/.dockerconfigjson',
    )
    .option('--mirror-ca-file <file>', 'with --check-mirror: PEM CA bundle trusted for mirrors')
    .action(async (inputs: string[], flags: AuditFlags) => {
      if (flags.cluster === true && inputs.length > 0)
        throw new UsageError('audit reads either inputs or --cluster, not both');
      if (flags.cluster !== true && inputs.length === 0)
        throw new UsageError('audit needs files, directories or - (stdin), or --cluster');
      if (flags.policy !== undefined && flags.policyFromCluster === true)
        throw new UsageError('--policy and --policy-from-cluster exclude each other');

      const needsCluster = flags.cluster === true || flags.policyFromCluster === true;
      try {
        // Loaded only when asked for: the client library is most of the CLI's start-up time.
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
        const defaultNamespace = flags.cluster === true ? undefined : flags.namespace;
        const adjust =
          flags.checkMirror === true
            ? await mirrorAdjust(policy, objects, defaultNamespace, flags)
            : undefined;
        const report = auditObjects(policy, objects, { defaultNamespace, adjust });
        const all = { ...report, problems: [...problems, ...report.problems] };
        writeReport(io, withProblemCount(all), flags);
        setExitCode(all.problems.length > 0 ? 2 : report.summary.wouldDeny > 0 ? 1 : 0);
      } catch (err) {
        if (err instanceof KubeApiError) throw new UsageError(err.message);
        throw err;
      }
    });
}

/**
 * `--check-mirror`: a first pass collects every distinct decision, the mirrors are asked about them (as explain
 * and the webhook ask), and the report's pass folds the answers in.
 */
async function mirrorAdjust(
  policy: CompiledPolicy,
  objects: readonly SourcedObject[],
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

async function listCluster(api: KubeReader, flags: AuditFlags, io: AuditIo): Promise<SourcedObject[]> {
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

function writeReport(io: AuditIo, report: AuditReport, flags: AuditFlags): void {
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

function parseOutput(value: string): 'text' | 'json' {
  if (value !== 'text' && value !== 'json') throw new InvalidArgumentError('text or json');
  return value;
}

function parseChunkSize(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('a whole number above 0');
  return n;
}
