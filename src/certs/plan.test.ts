import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueCertificateAuthority, issueServingCertificate, type Issued } from './issue.js';
import { planCertificates, type CertificateState, type Lifetimes } from './plan.js';
import { renewCertificates } from './renew.js';

const DAY = 86_400_000;
const now = new Date('2026-11-23T12:00:00Z');
const daysFromNow = (d: number): Date => new Date(now.getTime() + d * DAY);
const names = { dns: ['registry-gate', 'registry-gate.registry-gate-system.svc'], ips: ['127.0.0.1', '::1'] };
const lifetimes: Lifetimes = { names, servingDays: 90, servingRenewBeforeDays: 30, caDays: 1825, caRenewBeforeDays: 365 };

/** Certificates issued at `issuedDaysAgo`, valid for `days`: their expiry relative to `now` is what matters. */
const ca = (issuedDaysAgo: number, days: number): Promise<Issued> =>
  issueCertificateAuthority('test CA', daysFromNow(-issuedDaysAgo), days);
const serving = (by: Issued, issuedDaysAgo: number, days: number, forNames = names): Promise<Issued> =>
  issueServingCertificate(by, forNames, daysFromNow(-issuedDaysAgo), days);

describe('planCertificates: renew well before expiry, rotate the CA with an overlap, otherwise do nothing', () => {
  let freshCa: Issued;
  let otherCa: Issued;
  let agingCa: Issued;
  let expiredCa: Issued;
  let freshServing: Issued;
  let expiringServing: Issued;
  let foreignServing: Issued;
  let renamedServing: Issued;
  beforeAll(async () => {
    freshCa = await ca(10, 1825);
    otherCa = await ca(10, 1825);
    agingCa = await ca(1725, 1825); // 100 days left
    expiredCa = await ca(400, 365);
    freshServing = await serving(freshCa, 1, 90);
    expiringServing = await serving(freshCa, 80, 90); // 10 days left
    foreignServing = await serving(otherCa, 1, 90);
    renamedServing = await serving(freshCa, 1, 90, { dns: ['old-name'], ips: ['127.0.0.1'] });
  });

  const cases: [string, () => CertificateState, Partial<ReturnType<typeof planCertificates>>][] = [
    [
      'nothing yet: a CA and a serving certificate',
      () => ({ ca: null, previousCa: null, serving: null }),
      { rotateCa: 'no CA yet', reissueServing: 'the CA is rotated', keepPrevious: false, dropPrevious: null },
    ],
    [
      'everything current: nothing to do',
      () => ({ ca: freshCa, previousCa: null, serving: freshServing }),
      { rotateCa: null, reissueServing: null, keepPrevious: false, dropPrevious: null },
    ],
    [
      'serving certificate within 30 days of expiry: reissued, CA kept',
      () => ({ ca: freshCa, previousCa: null, serving: expiringServing }),
      { rotateCa: null, reissueServing: expect.stringMatching(/^the serving certificate expires .*, within 30 days$/) },
    ],
    [
      'CA within a year of expiry: rotated, the old one kept in caBundle while valid',
      () => ({ ca: agingCa, previousCa: null, serving: freshServing }),
      { rotateCa: expect.stringMatching(/^the CA expires .*, within 365 days$/), reissueServing: 'the CA is rotated', keepPrevious: true },
    ],
    [
      'a previous CA that has expired leaves caBundle',
      () => ({ ca: freshCa, previousCa: expiredCa.cert, serving: freshServing }),
      { rotateCa: null, keepPrevious: false, dropPrevious: expect.stringMatching(/^the previous CA expired /) },
    ],
    [
      'a previous CA still valid stays',
      () => ({ ca: freshCa, previousCa: agingCa.cert, serving: freshServing }),
      { rotateCa: null, reissueServing: null, keepPrevious: true, dropPrevious: null },
    ],
    [
      'a serving certificate another CA signed is reissued',
      () => ({ ca: freshCa, previousCa: null, serving: foreignServing }),
      { rotateCa: null, reissueServing: 'the serving certificate is not signed by the current CA' },
    ],
    [
      'a serving certificate for other names is reissued',
      () => ({ ca: freshCa, previousCa: null, serving: renamedServing }),
      { rotateCa: null, reissueServing: 'the service names changed' },
    ],
    [
      'a serving key that does not match its certificate is reissued',
      () => ({ ca: freshCa, previousCa: null, serving: { cert: freshServing.cert, key: foreignServing.key } }),
      { reissueServing: 'the serving key does not belong to the serving certificate' },
    ],
    [
      'a CA key that does not match its certificate rotates the CA',
      () => ({ ca: { cert: freshCa.cert, key: otherCa.key }, previousCa: null, serving: freshServing }),
      { rotateCa: 'the CA key does not belong to the CA certificate', reissueServing: 'the CA is rotated' },
    ],
  ];
  it.each(cases)('%s', (_name, state, expected) => {
    expect(planCertificates(state(), lifetimes, now)).toMatchObject(expected);
  });
});

describe('renewCertificates', () => {
  it('rotating the CA serves a certificate of the new CA and trusts both; the next run has nothing to do', async () => {
    const old = await ca(1725, 1825);
    const oldServing = await serving(old, 1, 90);
    const renewed = await renewCertificates({ ca: old, previousCa: null, serving: oldServing }, lifetimes, now);
    const bundle = renewed.caBundle.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    expect(bundle.map((pem) => new X509Certificate(pem).fingerprint256)).toEqual([
      new X509Certificate(renewed.ca.cert).fingerprint256,
      new X509Certificate(old.cert).fingerprint256,
    ]);
    // The apiserver trusts the bundle: both the old serving certificate and the new one verify against it.
    for (const cert of [oldServing.cert, renewed.serving.cert]) {
      const leaf = new X509Certificate(cert);
      expect(bundle.some((pem) => leaf.verify(new X509Certificate(pem).publicKey))).toBe(true);
    }
    expect(new X509Certificate(renewed.serving.cert).verify(new X509Certificate(renewed.ca.cert).publicKey)).toBe(true);

    const again = planCertificates(
      { ca: renewed.ca, previousCa: renewed.previousCa, serving: renewed.serving },
      lifetimes,
      now,
    );
    expect(again).toEqual({ rotateCa: null, reissueServing: null, keepPrevious: true, dropPrevious: null });
  });
});
