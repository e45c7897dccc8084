import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ServingCertificate {
  readonly cert: string;
  readonly key: string;
  readonly notAfter: Date;
}

export const CERT_FILE = 'tls.crt';
export const KEY_FILE = 'tls.key';
export const CA_FILE = 'ca.crt';

/** Names the development certificate is valid for: local use and the in-cluster Service. */
export function defaultCertificateNames(
  namespace = 'registry-gate-system',
  service = 'registry-gate',
): { dns: string[]; ips: string[] } {
  return {
    dns: [
      'localhost',
      service,
      `${service}.${namespace}`,
      `${service}.${namespace}.svc`,
      `${service}.${namespace}.svc.cluster.local`,
    ],
    ips: ['127.0.0.1', '::1'],
  };
}

const exists = async (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

/**
 * Creates a self-signed CA and an ECDSA P-256 serving certificate it signs, when `dir` has no `tls.crt` and
 * `tls.key`. The CA's private key is not kept: a development CA that signs nothing more cannot be misused.
 * Returns true when it wrote files.
 */
export async function ensureDevelopmentCertificates(
  dir: string,
  names = defaultCertificateNames(),
  days = 365,
): Promise<boolean> {
  if ((await exists(join(dir, CERT_FILE))) && (await exists(join(dir, KEY_FILE)))) return false;
  // Imported only when there is something to issue: the certificate library is a third of a second at start.
  const { issueCertificateAuthority, issueServingCertificate } = await import('./issue.js');
  const now = new Date();
  const ca = await issueCertificateAuthority('registry-gate development CA', now, days);
  const serving = await issueServingCertificate(ca, names, now, days);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, CA_FILE), ca.cert);
  await writeFile(join(dir, CERT_FILE), serving.cert);
  await writeFile(join(dir, KEY_FILE), serving.key, { mode: 0o600 });
  return true;
}

/** Reads and checks the serving pair: the key must belong to the certificate, or the files are mid-rotation. */
export async function readServingCertificate(dir: string): Promise<ServingCertificate> {
  const [cert, key] = await Promise.all([
    readFile(join(dir, CERT_FILE), 'utf8'),
    readFile(join(dir, KEY_FILE), 'utf8'),
  ]);
  const x509 = new X509Certificate(cert);
  if (!x509.checkPrivateKey(createPrivateKey(key))) {
    throw new Error(`${KEY_FILE} does not belong to ${CERT_FILE} (a rotation in progress?)`);
  }
  return { cert, key, notAfter: new Date(x509.validTo) };
}
