import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface CertificateSet {
  readonly ca: string;
  /** The serving pair at start, and its renewal, both signed by `ca` (as cert-manager renews a certificate). */
  readonly first: { readonly cert: string; readonly key: string };
  readonly renewed: { readonly cert: string; readonly key: string };
}

const ec = { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' } as const;

/** One CA and two serving certificates for localhost / 127.0.0.1 that it signs. */
export async function makeCertificates(): Promise<CertificateSet> {
  const notBeforeDate = new Date(Date.now() - 5 * 60_000);
  const notAfterDate = new Date(Date.now() + 86_400_000);
  const ca = await generate([{ name: 'commonName', value: 'registry-gate soak CA' }], {
    ...ec,
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, digitalSignature: true, critical: true },
    ],
  });
  const serving = async (): Promise<{ cert: string; key: string }> => {
    const pair = await generate([{ name: 'commonName', value: 'localhost' }], {
      ...ec,
      notBeforeDate,
      notAfterDate,
      ca: { key: ca.private, cert: ca.cert },
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ],
    });
    return { cert: pair.cert, key: pair.private };
  };
  return { ca: ca.cert, first: await serving(), renewed: await serving() };
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
