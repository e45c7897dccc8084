import { generate } from 'selfsigned';

/** A PEM certificate and its PEM private key. */
export interface Issued {
  readonly cert: string;
  readonly key: string;
}

export interface ServingNames {
  readonly dns: readonly string[];
  readonly ips: readonly string[];
}

const EC_P256 = { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' } as const;
/** Issued certificates start a little in the past: a node whose clock lags must not see them as not yet valid. */
const CLOCK_SKEW_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

function validity(now: Date, days: number): { notBeforeDate: Date; notAfterDate: Date } {
  return {
    notBeforeDate: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfterDate: new Date(now.getTime() + days * DAY_MS),
  };
}

/** A CA that signs serving certificates only (path length 0), ECDSA P-256. */
export async function issueCertificateAuthority(commonName: string, now: Date, days: number): Promise<Issued> {
  const made = await generate([{ name: 'commonName', value: commonName }], {
    ...EC_P256,
    ...validity(now, days),
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: made.cert, key: made.private };
}

/** A serving certificate for `names`, ECDSA P-256, signed by `ca`. */
export async function issueServingCertificate(
  ca: Issued,
  names: ServingNames,
  now: Date,
  days: number,
): Promise<Issued> {
  const made = await generate([{ name: 'commonName', value: names.dns[0] ?? 'localhost' }], {
    ...EC_P256,
    ...validity(now, days),
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...names.dns.map((value) => ({ type: 2 as const, value })),
          ...names.ips.map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  return { cert: made.cert, key: made.private };
}
