/** How much the admission routes accept, and for how long: docs/reliability.md "Limits" has the figures. */
export interface RequestLimits {
  /** Largest AdmissionReview accepted (413 beyond). Real reviews reach a few MiB: object and oldObject of a large Pod. */
  readonly maxBodyBytes: number;
  /** Bytes of all admission bodies in flight together (429 beyond, at once): BodyBudget. */
  readonly maxInflightBytes: number;
  /** The longest a body may go without a byte arriving (408 beyond): the apiserver sends a review in milliseconds. */
  readonly bodyTimeoutMs: number;
}

/**
 * Sized against the Deployment's 256 MiB memory limit and its V8 flags (manifests/base/deployment.yaml): deciding a
 * review costs up to about 20 times its size while it runs (a Pod of tens of thousands of containers: a site, a
 * decision and a patch operation each), one review is decided at a time, and the bodies waiting behind it are
 * held as bytes. The largest review peaked at 150 MiB RSS at 4 MiB (a burst of them at 185 MiB) and up to
 * 235 MiB at 6 MiB; a Pod that etcd can store (1.5 MiB) makes a CREATE review of about half of 4 MiB. Figures in
 * docs/reliability.md "Limits".
 */
export const REQUEST_LIMITS: RequestLimits = {
  maxBodyBytes: 4 * 1024 * 1024,
  maxInflightBytes: 12 * 1024 * 1024,
  bodyTimeoutMs: 10_000,
};
