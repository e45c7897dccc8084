import { generateKeyPairSync } from 'node:crypto';
import { generate } from 'selfsigned';
import { issueCertificateAuthority, issueServingCertificate } from '../../../src/certs/issue.js';

/** A certificate and its key, PEM. */
export interface KeyPair {
  readonly cert: string;
  readonly key: string;
}

export interface ControlPlanePki {
  readonly ca: KeyPair;
  readonly apiServer: KeyPair;
  /** system:masters: what `kubectl` and the tests use. */
  readonly admin: KeyPair;
  readonly controllerManager: KeyPair;
  /** Signs and verifies service-account tokens (`kubectl create token`). */
  readonly serviceAccount: { readonly publicKey: string; readonly privateKey: string };
}

const EC = { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' } as const;

function validity(): { notBeforeDate: Date; notAfterDate: Date } {
  return {
    notBeforeDate: new Date(Date.now() - 5 * 60_000),
    notAfterDate: new Date(Date.now() + 86_400_000),
  };
}

async function clientCertificate(ca: KeyPair, commonName: string, organization?: string): Promise<KeyPair> {
  const subject = [{ name: 'commonName', value: commonName }];
  if (organization) subject.push({ name: 'organizationName', value: organization });
  const made = await generate(subject, {
    ...EC,
    ...validity(),
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  });
  return { cert: made.cert, key: made.private };
}

/** Everything a throw-away control plane on 127.0.0.1 needs: one CA for serving and client certificates. */
export async function makeControlPlanePki(): Promise<ControlPlanePki> {
  // The CA and the serving certificate are made as registry-gate makes its own (src/certs/issue.ts).
  const now = new Date();
  const ca = await issueCertificateAuthority('registry-gate e2e CA', now, 1);
  const apiServer = await issueServingCertificate(
    ca,
    {
      dns: ['localhost', 'kubernetes.default.svc'],
      ips: ['127.0.0.1', '127.0.100.1'], // the second: the first address of --service-cluster-ip-range
    },
    now,
    1,
  );
  const { publicKey, privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    ca,
    apiServer,
    admin: await clientCertificate(ca, 'e2e-admin', 'system:masters'),
    controllerManager: await clientCertificate(ca, 'system:kube-controller-manager'),
    serviceAccount: { publicKey, privateKey },
  };
}
