import { issueCertificateAuthority, issueServingCertificate, type Issued } from './issue.js';
import { planCertificates, type CertificatePlan, type CertificateState, type Lifetimes } from './plan.js';

export interface RenewedCertificates {
  readonly plan: CertificatePlan;
  readonly ca: Issued;
  readonly previousCa: string | null;
  readonly serving: Issued;
  /** What the webhook configurations must trust: the current CA, then the previous one during an overlap. */
  readonly caBundle: string;
}

/** Carries out the plan: issues what it says to issue, keeps the rest. */
export async function renewCertificates(
  state: CertificateState,
  lifetimes: Lifetimes,
  now: Date,
): Promise<RenewedCertificates> {
  const plan = planCertificates(state, lifetimes, now);
  const ca =
    plan.rotateCa || !state.ca
      ? await issueCertificateAuthority(`registry-gate CA ${now.toISOString()}`, now, lifetimes.caDays)
      : state.ca;
  const serving =
    plan.reissueServing || !state.serving
      ? await issueServingCertificate(ca, lifetimes.names, now, lifetimes.servingDays)
      : state.serving;
  const previousCa = !plan.keepPrevious ? null : plan.rotateCa ? (state.ca?.cert ?? null) : state.previousCa;
  const caBundle = [ca.cert, previousCa].filter((c): c is string => c !== null).map((c) => c.trim()).join('\n') + '\n';
  return { plan, ca, previousCa, serving, caBundle };
}
