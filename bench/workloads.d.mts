// Types of workloads.mjs, for the TypeScript parts of the benchmark (bench/controlplane/).

/** An AdmissionReview as JSON; the bench reads `request.object` (the Pod). */
export interface AdmissionReviewJson {
  request: { object: Record<string, unknown>; [field: string]: unknown };
  [field: string]: unknown;
}

/** A RegistryPolicy as JSON, in the shape the bench policies use. */
export interface BenchPolicy {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    mode: string;
    shortNames: { registry: string; aliases: Record<string, string> };
    mirrors: { source: string; mirror: string }[];
    registrySources: { allowedRegistries: string[]; insecureRegistries: string[] };
    pullSecrets: { registry: string; secretName: string }[];
    exemptions: { namespaces: string[]; images: string[] };
  };
}

export function smallPodReview(): AdmissionReviewJson;
export function largePodReview(): AdmissionReviewJson;
export const SMALL_POLICY: BenchPolicy;
export function largePolicy(total?: number): BenchPolicy;
export function ruleCount(policy: BenchPolicy): number;
