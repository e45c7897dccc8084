import type { MirrorRoute } from '../policy/types.js';

/**
 * Where a rule came from: the document (kind/name, or a file name for registries.conf) and the entry in it, so that
 * `policy import` can comment each rule and `explain` can say why an image was decided the way it was.
 */
export interface Origin {
  /** `ImageDigestMirrorSet/ocp-mirrors`, `Image/cluster`, `registries.conf` … with the file in brackets when known. */
  readonly document: string;
  /** The field path of the entry in that document: `spec.imageDigestMirrors[0].mirrors[1]`, `registry[2].mirror[0]`. */
  readonly entry: string;
}

/** A value with every origin that contributed to it (merged mirror sets can have several). */
export interface WithOrigins<T> {
  readonly value: T;
  readonly origins: readonly Origin[];
}

export interface Alias {
  readonly shortName: string;
  readonly target: string;
}

/**
 * Policy rules read from node-level documents, each with its origin. Lists mirror `RegistryPolicy.spec`; null
 * means "not set" (so that the allowed/blocked XOR is judged the way OpenShift judges it).
 */
export interface ImportedRules {
  readonly mirrors: readonly WithOrigins<MirrorRoute>[];
  readonly allowedRegistries: readonly WithOrigins<string>[] | null;
  readonly blockedRegistries: readonly WithOrigins<string>[] | null;
  readonly insecureRegistries: readonly WithOrigins<string>[];
  readonly shortNameRegistry: WithOrigins<string> | null;
  readonly aliases: readonly WithOrigins<Alias>[];
  /** Fields with no admission meaning, ambiguities resolved, things dropped: said once, with their origin. */
  readonly notes: readonly string[];
  /**
   * Entries the nodes apply but admission cannot (a wildcard mirror source), left out of the rules; each is also
   * in `notes`. Live mode counts them in a metric.
   */
  readonly dropped: readonly string[];
}

/** The outcome of reading documents: rules when the documents had the right shape, and every shape error. */
export type ImportResult =
  | { readonly ok: true; readonly rules: ImportedRules }
  | { readonly ok: false; readonly errors: readonly string[] };

export function formatOrigin(origin: Origin): string {
  return `${origin.document} ${origin.entry}`;
}

export function formatOrigins(origins: readonly Origin[]): string {
  return origins.map(formatOrigin).join('; ');
}
