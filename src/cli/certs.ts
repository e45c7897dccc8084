import { Command } from 'commander';
import { UsageError } from './errors.js';
import type { Io, SetExitCode } from './io.js';
import { parsePositive } from './options.js';

interface CertsFlags {
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
}

/** `registry-gate certs`: the CA and serving certificate in Secrets, caBundle in both webhook configurations. */
export function certsCommand(io: Io, setExitCode: SetExitCode): Command {
  return new Command('certs')
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
    .action(async (opts: CertsFlags) => {
      if (opts.renewBefore >= opts.days || opts.caRenewBefore >= opts.caDays) {
        throw new UsageError(
          '--renew-before must be shorter than --days, and --ca-renew-before than --ca-days',
        );
      }
      // Loaded here, not at the top: the Kubernetes client costs every other command 0.6 s and ~70 MB.
      const { describeCertsError, runCerts } = await import('../kube/webhook-certificates.js');
      const code = await runCerts(
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
        io.stderr(`registry-gate certs: ${describeCertsError(err)}\n`);
        return 1;
      });
      setExitCode(code);
    });
}
