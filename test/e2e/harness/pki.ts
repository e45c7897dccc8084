import { generateKeyPairSync } from 'node:crypto';
import { generate } from 'selfsigned';
import {
  issueCertificateAuthority,
  issueServingCertificate,
  type ServingNames,
} from '../../../src/certs/issue.js';

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

/** A client certificate: Kubernetes reads the user from CN and the groups from O. */
export async function clientCertificate(
  ca: KeyPair,
  commonName: string,
  organization?: string,
): Promise<KeyPair> {
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

/** The API server's names on the loopback-only control plane (127.0.100.1: --service-cluster-ip-range's first). */
const LOOPBACK_APISERVER_NAMES = {
  dns: ['localhost', 'kubernetes.default.svc'],
  ips: ['127.0.0.1', '127.0.100.1'],
};

/**
 * Everything a throw-away control plane needs: one CA for serving and client certificates. The CA may sign other
 * certificates too (`ca` is returned), so a node and a registry can share it.
 */
export async function makeControlPlanePki(
  apiServerNames: ServingNames = LOOPBACK_APISERVER_NAMES,
): Promise<ControlPlanePki> {
  // The CA and the serving certificate are made as registry-gate makes its own (src/certs/issue.ts).
  const now = new Date();
  const ca = await issueCertificateAuthority('registry-gate e2e CA', now, 1);
  const apiServer = await issueServingCertificate(ca, apiServerNames, now, 1);
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
