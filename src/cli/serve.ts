import { Command } from 'commander';
import { DEFAULT_MIRROR_OPTIONS } from '../runtime/mirror-verification.js';
import { REQUEST_LIMITS, startWebhook } from '../runtime/webhook.js';
import type { Io } from './io.js';
import { parseLogLevel, parseNonNegative, parsePort, parsePositive, type LogLevel } from './options.js';

interface ServeFlags {
  requireRestriction?: boolean;
  maxBodyBytes: number;
  maxInflightBytes: number;
  bodyTimeout: number;
  pullSecretsDir?: string;
  mirrorCaFile?: string;
  mirrorBudget: number;
  mirrorTimeout: number;
  mirrorHealthInterval: number;
  mirrorCacheSize: number;
  kubeconfig?: string;
  namespace?: string;
  identity?: string;
  leaseDuration: number;
  policy?: string;
  port: number;
  host: string;
  certDir: string;
  reloadInterval: number;
  shutdownDelay: number;
  logLevel: LogLevel;
}

/**
 * `registry-gate serve`: the webhook, until SIGTERM or SIGINT, then a graceful stop. An invalid policy or an
 * unusable certificate directory at start is a StartupError (exit 2, every problem named).
 */
export function serveCommand(io: Io): Command {
  return new Command('serve')
    .description('run the admission webhook (HTTPS: /mutate, /validate, /healthz, /readyz, /metrics)')
    .option('--policy <file>', 'RegistryPolicy YAML (default: the built-in policy)')
    .option('--port <port>', 'HTTPS port', parsePort, 8443)
    .option('--host <host>', 'address to listen on', '0.0.0.0')
    .option('--cert-dir <dir>', 'tls.crt and tls.key; generated there when missing', 'certs')
    .option(
      '--reload-interval <ms>',
      'how often the policy and certificate files are checked',
      parsePositive,
      2000,
    )
    .option(
      '--shutdown-delay <ms>',
      'keep serving this long after SIGTERM before draining',
      parseNonNegative,
      0,
    )
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent', parseLogLevel, 'info')
    .option(
      '--kubeconfig <file>',
      'API access for pull-secret propagation (default: in-cluster, else $KUBECONFIG or ~/.kube/config)',
    )
    .option(
      '--namespace <ns>',
      "the gate's namespace: holds the pull-secret Lease (default: the service account's, else $POD_NAMESPACE, else registry-gate-system)",
    )
    .option(
      '--identity <name>',
      'this replica in the pull-secret Lease (default: $POD_NAME, else hostname-pid)',
    )
    .option('--lease-duration <s>', 'pull-secret Lease duration in seconds', parsePositive, 15)
    .option(
      '--pull-secrets-dir <dir>',
      'mirror credentials as mounted Secrets: DIR/<secretName>/.dockerconfigjson (default: read through the API)',
    )
    .option('--mirror-ca-file <file>', 'PEM CA bundle trusted for mirrors, besides the system roots')
    .option('--mirror-budget <ms>', "time for all of one review's mirror look-ups", parsePositive, 2000)
    .option('--mirror-timeout <ms>', 'time for one request to a mirror', parsePositive, 1000)
    .option(
      '--mirror-health-interval <ms>',
      "how often mirrors' credentials are checked",
      parsePositive,
      60_000,
    )
    .option(
      '--mirror-cache-size <n>',
      "mirrors' answers remembered across reviews (0: none)",
      parseNonNegative,
      4096,
    )
    .option('--require-restriction', 'refuse a policy that restricts no registry (at start and on reload)')
    .option(
      '--max-body-bytes <n>',
      'largest AdmissionReview accepted (413 beyond)',
      parsePositive,
      REQUEST_LIMITS.maxBodyBytes,
    )
    .option(
      '--max-inflight-bytes <n>',
      'bytes of all admission bodies in flight together (429 beyond); see docs/reliability.md',
      parsePositive,
      REQUEST_LIMITS.maxInflightBytes,
    )
    .option(
      '--body-timeout <ms>',
      'longest a request body may go without a byte arriving (408 beyond)',
      parsePositive,
      REQUEST_LIMITS.bodyTimeoutMs,
    )
    .action(async (opts: ServeFlags) => {
      const proc = io.process;
      if (proc === undefined) throw new Error('serve needs the real process: it runs from src/main.ts only');
      const logger = proc.createLogger(opts.logLevel);
      try {
        const webhook = await startWebhook({
          policyFile: opts.policy ?? null,
          host: opts.host,
          port: opts.port,
          certDir: opts.certDir,
          reloadIntervalMs: opts.reloadInterval,
          shutdownDelayMs: opts.shutdownDelay,
          logger,
          requireRestriction: opts.requireRestriction === true,
          limits: {
            maxBodyBytes: opts.maxBodyBytes,
            maxInflightBytes: opts.maxInflightBytes,
            bodyTimeoutMs: opts.bodyTimeout,
          },
          pullSecrets: {
            kubeconfig: opts.kubeconfig ?? null,
            namespace: opts.namespace ?? proc.namespace ?? 'registry-gate-system',
            identity: opts.identity ?? proc.identity,
            leaseDurationSeconds: opts.leaseDuration,
          },
          mirrors: {
            ...DEFAULT_MIRROR_OPTIONS,
            pullSecretsDir: opts.pullSecretsDir ?? null,
            caFile: opts.mirrorCaFile ?? null,
            budgetMs: opts.mirrorBudget,
            requestTimeoutMs: opts.mirrorTimeout,
            healthIntervalMs: opts.mirrorHealthInterval,
            cacheSize: opts.mirrorCacheSize,
          },
        });
        const signal = await proc.stopSignal();
        logger.info({ signal }, 'stopping: draining in-flight requests');
        await webhook.stop();
      } finally {
        logger.flush();
      }
    });
}
