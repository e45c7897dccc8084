import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { currentNamespace } from '../kube/namespace.js';
import { REQUEST_LIMITS } from '../http/limits.js';
import { evaluateImage, loadPolicyText, unrestrictedReason } from '../policy/index.js';
import { auditCommand } from './audit.js';
import { explainDecision, explainImage, explainText, type ExplainRecord } from './explain.js';
import { askMirrors, checkedDecision, type MirrorFlags } from './mirror-check.js';
import { UsageError, policyFromFile } from './policy-file.js';
import { originsFromFile, registerPolicySourceCommands } from './policy-sources.js';
import { StartupError, startWebhook } from './serve.js';
import { DEFAULT_MIRROR_OPTIONS } from './serve-mirrors.js';

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdin: () => Promise<string>;
  readonly stderrIsTerminal?: boolean;
}

/** Log lines wait until this many bytes are pending, or at most this long, before they are written. */
const LOG_BATCH_BYTES = 4096;
const LOG_FLUSH_MS = 200;

/** Exit codes: 0 all allowed, 1 something denied or invalid, 2 usage or input error. */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  let exitCode = 0;
  const program = new Command('registry-gate')
    .description(
      'Keeps every pod on the registries you trust: rewrites to your mirror, injects pull secrets, denies the rest.',
    )
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();

  program
    .command('serve')
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
    .option('--log-level <level>', 'pino log level', 'info')
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
    .action(
      async (opts: {
        pullSecretsDir?: string;
        mirrorCaFile?: string;
        mirrorBudget: number;
        mirrorTimeout: number;
        mirrorHealthInterval: number;
        mirrorCacheSize: number;
        requireRestriction?: boolean;
        maxBodyBytes: number;
        maxInflightBytes: number;
        bodyTimeout: number;
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
        logLevel: string;
      }) => {
        const logger = pino(
          {
            level: opts.logLevel,
            base: { service: 'registry-gate' },
            redact: {
              paths: ['*.data', '*.stringData', '*.dockerconfigjson', '*.authorization'],
              censor: '[redacted]',
            },
          },
          // Lines are written in batches of 4 KiB or every 200 ms, whichever comes first (and at exit): one
          // write per admission line cost the 8 KB /mutate about a tenth of its CPU in the benchmark (docs/benchmarks.md).
          pino.destination({ dest: 1, sync: false, minLength: LOG_BATCH_BYTES, periodicFlush: LOG_FLUSH_MS }),
        );
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
              namespace: opts.namespace ?? currentNamespace() ?? 'registry-gate-system',
              identity: opts.identity ?? (process.env['POD_NAME'] || `${hostname()}-${process.pid}`),
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
          await new Promise<void>((resolve) => {
            const stop = (signal: string): void => {
              logger.info({ signal }, 'stopping: draining in-flight requests');
              void webhook.stop().then(resolve);
            };
            process.once('SIGTERM', () => stop('SIGTERM'));
            process.once('SIGINT', () => stop('SIGINT'));
          });
        } catch (err) {
          if (!(err instanceof StartupError)) throw err;
          io.stderr(`registry-gate: ${err.message}\n${err.details.map((d) => `  ${d}\n`).join('')}`);
          exitCode = 2;
        } finally {
          logger.flush();
        }
      },
    );

  program
    .command('explain')
    .description(
      'show how each image resolves, which rule decides, what it becomes and which pull secrets apply',
    )
    .argument('<images...>', 'image references, or - to read one per line from stdin')
    .option('--policy <file>', 'RegistryPolicy YAML (default: the built-in policy)')
    .option('--namespace <ns>', 'judge as in this namespace (namespace exemptions)')
    .option('-o, --output <format>', 'text or json (one JSON object per line)', parseOutput, 'text')
    .option('--check-mirror', 'ask the mirror whether it serves each image (HEAD manifest), and its digest')
    .option(
      '--pull-secrets-dir <dir>',
      'with --check-mirror: credentials, DIR/<secretName>/.dockerconfigjson',
    )
    .option('--mirror-ca-file <file>', 'with --check-mirror: PEM CA bundle trusted for mirrors')
    .action(
      async (
        images: string[],
        opts: { policy?: string; namespace?: string; output: 'text' | 'json' } & MirrorFlags,
      ) => {
        const policy = await policyFromFile(opts.policy);
        const inputs =
          images.length === 1 && images[0] === '-'
            ? (await io.stdin())
                .split(/\r?\n/)
                .filter((l) => l.trim() !== '')
                .map((l) => l.trim())
            : images;
        if (inputs.length === 0) throw new UsageError('no images given');
        const origins = await originsFromFile(opts.policy);
        let records: ExplainRecord[];
        if (opts.checkMirror === true) {
          const decisions = inputs.map((image) =>
            evaluateImage(policy, image, { judge: 'final', namespace: opts.namespace }),
          );
          const answers = await askMirrors(policy, decisions, opts);
          records = decisions.map((d) => {
            const checked = checkedDecision(policy, d, answers);
            return explainDecision(policy, checked.decision, origins, checked.check);
          });
        } else {
          records = inputs.map((image) => explainImage(policy, image, opts.namespace, origins));
        }
        if (opts.output === 'json') io.stdout(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
        else io.stdout(`${records.map((r) => explainText(r)).join('\n\n')}\n`);
        if (records.some((r) => r.decision === 'deny')) exitCode = 1;
      },
    );

  // addCommand does not pass on exitOverride and the output settings: copy them, as .command() would.
  program.addCommand(
    auditCommand(io, (code) => {
      exitCode = code;
    }).copyInheritedSettings(program),
  );

  program
    .command('certs')
    .description(
      'create or renew the CA and serving certificate in Secrets and patch caBundle into both webhook configurations',
    )
    .option('--namespace <ns>', "the gate's namespace", 'registry-gate-system')
    .option('--service <name>', 'the Service the serving certificate is for', 'registry-gate')
    .option('--tls-secret <name>', 'Secret the server mounts (tls.crt, tls.key, ca.crt)', 'registry-gate-tls')
    .option('--ca-secret <name>', 'Secret holding the CA key (read only by this command)', 'registry-gate-ca')
    .option(
      '--webhook-configuration <name>',
      'Mutating and ValidatingWebhookConfiguration name',
      'registry-gate',
    )
    .option('--days <n>', 'serving certificate validity', parsePositive, 90)
    .option(
      '--renew-before <days>',
      'renew the serving certificate when fewer days are left',
      parsePositive,
      30,
    )
    .option('--ca-days <n>', 'CA validity', parsePositive, 1825)
    .option(
      '--ca-renew-before <days>',
      'rotate the CA when fewer days are left (old CA kept in caBundle)',
      parsePositive,
      365,
    )
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config or in-cluster)')
    .action(
      async (opts: {
        namespace: string;
        service: string;
        tlsSecret: string;
        caSecret: string;
        webhookConfiguration: string;
        days: number;
        renewBefore: number;
        caDays: number;
        caRenewBefore: number;
        kubeconfig?: string;
      }) => {
        if (opts.renewBefore >= opts.days || opts.caRenewBefore >= opts.caDays) {
          throw new UsageError(
            '--renew-before must be shorter than --days, and --ca-renew-before than --ca-days',
          );
        }
        // Loaded here, not at the top: the Kubernetes client costs every other command 0.6 s and ~70 MB.
        const { describeApiError, runCerts } = await import('./certs.js');
        exitCode = await runCerts(
          {
            namespace: opts.namespace,
            service: opts.service,
            tlsSecret: opts.tlsSecret,
            caSecret: opts.caSecret,
            webhookConfiguration: opts.webhookConfiguration,
            servingDays: opts.days,
            servingRenewBeforeDays: opts.renewBefore,
            caDays: opts.caDays,
            caRenewBeforeDays: opts.caRenewBefore,
            ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
          },
          (line) => io.stdout(`${line}\n`),
        ).catch((err: unknown) => {
          io.stderr(`registry-gate certs: ${describeApiError(err)}\n`);
          return 1;
        });
      },
    );

  const policy = program.command('policy').description('work with RegistryPolicy files');
  policy
    .command('check')
    .description('validate a policy, printing every error with its field path')
    .argument('<file>')
    .action(async (file: string) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
      }
      const loaded = loadPolicyText(text);
      if (loaded.ok) {
        const s = loaded.policy.spec;
        const list = s.registrySources.allowedRegistries
          ? `${s.registrySources.allowedRegistries.length} allowed`
          : `${s.registrySources.blockedRegistries?.length ?? 0} blocked`;
        io.stdout(
          `${file}: valid (mode ${s.mode}, ${s.mirrors.length} mirrors, ${list} registries, ${s.pullSecrets.length} pull secrets)\n`,
        );
        const unrestricted = unrestrictedReason(s);
        if (unrestricted !== null) io.stderr(`${file}: warning: ${unrestricted}\n`);
      } else {
        io.stdout(loaded.errors.map((e) => `${file}: ${e}\n`).join(''));
        exitCode = 1;
      }
    });

  // policy import / export (OpenShift image config, registries.conf): issue 13.
  registerPolicySourceCommands(policy, io, (code) => {
    exitCode = code;
  });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`registry-gate: ${err.message}\n`);
      return 2;
    }
    if (isCommanderExit(err)) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  return exitCode;
}

/** commander's exitOverride throws for --help, --version and its own usage errors. */
function isCommanderExit(err: unknown): err is { exitCode: number } {
  if (typeof err !== 'object' || err === null) return false;
  const { code, exitCode } = err as { code?: unknown; exitCode?: unknown };
  return typeof code === 'string' && code.startsWith('commander.') && typeof exitCode === 'number';
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port from 0 to 65535');
  return n;
}
function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('a whole number above 0');
  return n;
}
function parseNonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number, 0 or more');
  return n;
}
function parseOutput(value: string): 'text' | 'json' {
  if (value !== 'text' && value !== 'json') throw new InvalidArgumentError('text or json');
  return value;
}
