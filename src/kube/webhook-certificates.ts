import {
  AdmissionregistrationV1Api,
  ApiException,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Secret,
} from '@kubernetes/client-node';
import { defaultCertificateNames } from '../certs/files.js';
import type { Issued } from '../certs/issue.js';
import type { Lifetimes } from '../certs/plan.js';
import { renewCertificates } from '../certs/renew.js';
import { loadKubeConfig } from './kube-config.js';

export interface CertsOptions {
  readonly namespace: string;
  readonly service: string;
  readonly tlsSecret: string;
  readonly caSecret: string;
  readonly webhookConfiguration: string;
  readonly servingDays: number;
  readonly servingRenewBeforeDays: number;
  readonly caDays: number;
  readonly caRenewBeforeDays: number;
  readonly kubeconfig?: string;
}

const MANAGED_BY = {
  'app.kubernetes.io/managed-by': 'registry-gate',
  'app.kubernetes.io/name': 'registry-gate',
};

/** The apiserver's own words for a failed call (its Status message), or the error's message: no stack trace. */
export function describeCertsError(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = typeof err.body === 'string' ? safeJson(err.body) : err.body;
    const message =
      body && typeof body === 'object' && 'message' in body && typeof body.message === 'string'
        ? body.message
        : '';
    return `the API server answered ${err.code}${message ? `: ${message}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const notFound = (err: unknown): boolean => err instanceof ApiException && err.code === 404;

async function readSecret(core: CoreV1Api, namespace: string, name: string): Promise<V1Secret | null> {
  return core.readNamespacedSecret({ name, namespace }).catch((err: unknown) => {
    if (notFound(err)) return null;
    throw err;
  });
}

const decode = (secret: V1Secret | null, key: string): string | null => {
  const value = secret?.data?.[key];
  return value ? Buffer.from(value, 'base64').toString('utf8') : null;
};
const encode = (value: string): string => Buffer.from(value).toString('base64');

function pair(secret: V1Secret | null, certKey: string, keyKey: string): Issued | null {
  const cert = decode(secret, certKey);
  const key = decode(secret, keyKey);
  return cert && key ? { cert, key } : null;
}

/** Creates the Secret, or replaces it at the version read (a concurrent writer makes this fail, not clobber). */
async function writeSecret(
  core: CoreV1Api,
  existing: V1Secret | null,
  namespace: string,
  name: string,
  type: string,
  data: Record<string, string>,
): Promise<void> {
  const body: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace,
      labels: MANAGED_BY,
      ...(existing?.metadata?.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
    },
    type,
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, encode(v)])),
  };
  if (existing) await core.replaceNamespacedSecret({ name, namespace, body });
  else await core.createNamespacedSecret({ namespace, body });
}

interface WebhookEntry {
  name: string;
  clientConfig?: { caBundle?: string };
}

/** JSON patch setting caBundle on every entry that lacks it; each guarded by a test of the entry's name. */
function caBundleOps(webhooks: readonly WebhookEntry[], caBundle: string): object[] {
  return webhooks.flatMap((w, i) =>
    w.clientConfig?.caBundle === caBundle
      ? []
      : [
          { op: 'test', path: `/webhooks/${i}/name`, value: w.name },
          { op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle },
        ],
  );
}

/**
 * `registry-gate certs`: creates or renews the CA (Secret `caSecret`, read only by this command) and the serving
 * certificate (Secret `tlsSecret`, mounted by the server, with the CA bundle as ca.crt), and patches caBundle into
 * both webhook configurations. Order matters for a rotation: the bundle with both CAs is published to the apiserver
 * before the new serving certificate reaches the server, so no request meets a certificate the apiserver does not
 * trust. Returns the exit code; prints what it did, never a key.
 */
export async function runCerts(
  options: CertsOptions,
  out: (line: string) => void,
  now = new Date(),
): Promise<number> {
  const kc = loadKubeConfig(options.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  const { namespace } = options;

  const caSecret = await readSecret(core, namespace, options.caSecret);
  const tlsSecret = await readSecret(core, namespace, options.tlsSecret);
  const lifetimes: Lifetimes = {
    names: defaultCertificateNames(namespace, options.service),
    servingDays: options.servingDays,
    servingRenewBeforeDays: options.servingRenewBeforeDays,
    caDays: options.caDays,
    caRenewBeforeDays: options.caRenewBeforeDays,
  };
  const renewed = await renewCertificates(
    {
      ca: pair(caSecret, 'ca.crt', 'ca.key'),
      previousCa: decode(caSecret, 'previous-ca.crt'),
      serving: pair(tlsSecret, 'tls.crt', 'tls.key'),
    },
    lifetimes,
    now,
  );
  const { plan } = renewed;
  let changes = 0;

  const caData: Record<string, string> = { 'ca.crt': renewed.ca.cert, 'ca.key': renewed.ca.key };
  if (renewed.previousCa) caData['previous-ca.crt'] = renewed.previousCa;
  if (plan.rotateCa || plan.dropPrevious || !caSecret) {
    await writeSecret(core, caSecret, namespace, options.caSecret, 'Opaque', caData);
    out(
      `CA: ${plan.rotateCa ? `new (${plan.rotateCa})` : 'kept'}${plan.dropPrevious ? `; previous CA dropped (${plan.dropPrevious})` : ''}`,
    );
    changes++;
  }

  const bundle = encode(renewed.caBundle);
  for (const kind of ['mutating', 'validating'] as const) {
    const name = options.webhookConfiguration;
    const config =
      kind === 'mutating'
        ? await admission.readMutatingWebhookConfiguration({ name })
        : await admission.readValidatingWebhookConfiguration({ name });
    const ops = caBundleOps((config.webhooks ?? []) as WebhookEntry[], bundle);
    if (ops.length === 0) continue;
    const patchOptions = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
    if (kind === 'mutating')
      await admission.patchMutatingWebhookConfiguration({ name, body: ops }, patchOptions);
    else await admission.patchValidatingWebhookConfiguration({ name, body: ops }, patchOptions);
    out(`caBundle: set on ${ops.length / 2} entries of ${kind}webhookconfiguration/${name}`);
    changes++;
  }

  const servedBundle = decode(tlsSecret, 'ca.crt');
  if (plan.reissueServing || servedBundle !== renewed.caBundle) {
    await writeSecret(core, tlsSecret, namespace, options.tlsSecret, 'kubernetes.io/tls', {
      'tls.crt': renewed.serving.cert,
      'tls.key': renewed.serving.key,
      'ca.crt': renewed.caBundle,
    });
    out(
      `serving certificate: ${plan.reissueServing ? `new (${plan.reissueServing})` : 'kept; CA bundle updated'}`,
    );
    changes++;
  }
  const caCount = renewed.previousCa ? 2 : 1;
  out(
    changes === 0
      ? `nothing to do: certificates current, caBundle holds ${caCount} CA${caCount > 1 ? 's' : ''}`
      : `done: ${namespace}/${options.tlsSecret} and caBundle hold ${caCount} CA${caCount > 1 ? 's' : ''}`,
  );
  return 0;
}
