import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Issued, ServingNames } from './issue.js';

/** What the cluster holds now (from the CA and TLS Secrets); null where a Secret or key is absent. */
export interface CertificateState {
  readonly ca: Issued | null;
  /** The CA this one replaced, kept in caBundle while certificates it signed may still be served. */
  readonly previousCa: string | null;
  readonly serving: Issued | null;
}

export interface Lifetimes {
  readonly names: ServingNames;
  readonly servingDays: number;
  readonly servingRenewBeforeDays: number;
  readonly caDays: number;
  readonly caRenewBeforeDays: number;
}

export interface CertificatePlan {
  /** Why a new CA is needed, or null to keep the current one. */
  readonly rotateCa: string | null;
  /** Why a new serving certificate is needed, or null to keep it. */
  readonly reissueServing: string | null;
  /** Whether the previous CA stays in caBundle (only while it is still valid). */
  readonly keepPrevious: boolean;
  /** Why the previous CA leaves caBundle, or null. */
  readonly dropPrevious: string | null;
}

const DAY_MS = 86_400_000;

function expiresWithin(cert: X509Certificate, days: number, now: Date): boolean {
  return new Date(cert.validTo).getTime() - now.getTime() < days * DAY_MS;
}

function sameNames(cert: X509Certificate, names: ServingNames): boolean {
  const have = (cert.subjectAltName ?? '')
    .split(', ')
    .filter(Boolean)
    .map((entry) => entry.replace(/^IP Address:/, 'IP:'))
    .sort();
  const want = [...names.dns.map((d) => `DNS:${d}`), ...names.ips.map((ip) => `IP:${canonicalIp(ip)}`)].sort();
  return have.length === want.length && have.every((v, i) => v === want[i]);
}

/** node prints IPv6 SANs in full lower-case form; compare in that form. */
function canonicalIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return groups.map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':');
}

function keyMatches(pair: Issued): boolean {
  try {
    return new X509Certificate(pair.cert).checkPrivateKey(createPrivateKey(pair.key));
  } catch {
    return false;
  }
}

/**
 * Decides what `registry-gate certs` must do so that a certificate never lapses and no request fails during a
 * rotation: renew well before expiry, and when the CA itself is replaced keep the old one in caBundle beside the
 * new one until it expires, so a server still presenting a certificate of the old CA stays trusted. Nothing to do
 * when everything is current: a second run changes nothing.
 */
export function planCertificates(state: CertificateState, lifetimes: Lifetimes, now: Date): CertificatePlan {
  const ca = state.ca && keyMatches(state.ca) ? new X509Certificate(state.ca.cert) : null;
  let rotateCa: string | null = null;
  if (!state.ca) rotateCa = 'no CA yet';
  else if (!ca) rotateCa = 'the CA key does not belong to the CA certificate';
  else if (expiresWithin(ca, lifetimes.caRenewBeforeDays, now))
    rotateCa = `the CA expires ${ca.validTo}, within ${lifetimes.caRenewBeforeDays} days`;

  // The CA being replaced becomes the previous one; an older previous one is dropped.
  const previousPem = rotateCa ? (state.ca?.cert ?? null) : state.previousCa;
  const previous = previousPem ? new X509Certificate(previousPem) : null;
  const previousValid = previous !== null && new Date(previous.validTo).getTime() > now.getTime();
  let dropPrevious: string | null = null;
  if (rotateCa && state.previousCa) dropPrevious = 'replaced by the CA being rotated out';
  else if (previous && !previousValid) dropPrevious = `the previous CA expired ${previous.validTo}`;

  let reissueServing: string | null = null;
  const serving = state.serving && keyMatches(state.serving) ? new X509Certificate(state.serving.cert) : null;
  if (rotateCa) reissueServing = 'the CA is rotated';
  else if (!state.serving) reissueServing = 'no serving certificate yet';
  else if (!serving) reissueServing = 'the serving key does not belong to the serving certificate';
  else if (ca && !(serving.checkIssued(ca) && serving.verify(ca.publicKey)))
    reissueServing = 'the serving certificate is not signed by the current CA';
  else if (expiresWithin(serving, lifetimes.servingRenewBeforeDays, now))
    reissueServing = `the serving certificate expires ${serving.validTo}, within ${lifetimes.servingRenewBeforeDays} days`;
  else if (!sameNames(serving, lifetimes.names)) reissueServing = 'the service names changed';

  return { rotateCa, reissueServing, keepPrevious: previousValid, dropPrevious };
}
