import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { issueCertificateAuthority, issueServingCertificate } from '../../src/certs/issue.js';

export interface CertificateSet {
  readonly ca: string;
  /** The serving pair at start, and its renewal, both signed by `ca` (as cert-manager renews a certificate). */
  readonly first: { readonly cert: string; readonly key: string };
  readonly renewed: { readonly cert: string; readonly key: string };
}

/** One CA and two serving certificates for localhost / 127.0.0.1 that it signs, made as the server makes its own. */
export async function makeCertificates(): Promise<CertificateSet> {
  const now = new Date();
  const ca = await issueCertificateAuthority('registry-gate soak CA', now, 1);
  const names = { dns: ['localhost'], ips: ['127.0.0.1'] };
  return {
    ca: ca.cert,
    first: await issueServingCertificate(ca, names, now, 1),
    renewed: await issueServingCertificate(ca, names, now, 1),
  };
}

/** Writes the serving pair in the layout `serve --cert-dir` reads (tls.crt, tls.key, ca.crt). */
export async function writeServingPair(
  dir: string,
  ca: string,
  pair: { cert: string; key: string },
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'ca.crt'), ca);
  await writeFile(join(dir, 'tls.crt'), pair.cert);
  await writeFile(join(dir, 'tls.key'), pair.key, { mode: 0o600 });
}
