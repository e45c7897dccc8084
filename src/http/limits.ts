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
 * held as bytes. A 6 MiB review is past anything the apiserver can store (its request limit is 3 MiB, etcd's
 * 1.5 MiB; an UPDATE carries the object twice); the measured peaks are in docs/reliability.md.
 */
export const REQUEST_LIMITS: RequestLimits = {
  maxBodyBytes: 6 * 1024 * 1024,
  maxInflightBytes: 16 * 1024 * 1024,
  bodyTimeoutMs: 10_000,
};
