/** The validated `RegistryPolicy` spec: every field present, defaults applied (see docs/policy.md). */
export type Mode = 'enforce' | 'warn' | 'audit';
export const MODES: readonly Mode[] = ['enforce', 'warn', 'audit'];

/** Where a mirror rule sends images: the part that node formats (registries.conf, ICSP/IDMS/ITMS) also carry. */
export interface MirrorRoute {
  readonly source: string;
  readonly mirror: string;
  /** Rewrite only references pinned by digest (ImageDigestMirrorSet / ICSP mirror-by-digest-only). */
  readonly digestOnly: boolean;
  /** Rewrite only references pulled by tag (ImageTagMirrorSet). */
  readonly tagOnly: boolean;
}

/** Whether admission asks the mirror (docs/policy.md "Mirror verification"); no node format has these. */
export type Verify = 'off' | 'warn' | 'enforce';
export type Pin = 'none' | 'digest';
export type OnError = 'allow' | 'deny';
export const VERIFY_LEVELS: readonly Verify[] = ['off', 'warn', 'enforce'];
export const PIN_KINDS: readonly Pin[] = ['none', 'digest'];
export const ON_ERROR: readonly OnError[] = ['allow', 'deny'];

export interface MirrorVerification {
  /** Ask the mirror whether it serves the image: off (today's behaviour), warn, or enforce (deny NOT_IN_MIRROR). */
  readonly verify: Verify;
  /** `digest`: the mutating webhook writes `…:tag@sha256:<digest the mirror serves>`. */
  readonly pin: Pin;
  /** When the mirror cannot be asked: allow with a warning, or deny MIRROR_UNREACHABLE. */
  readonly onError: OnError;
}

export interface MirrorRule extends MirrorRoute, MirrorVerification {}

/** A Secret by namespace and name: where `pullSecrets[].from` copies are made from (the "source Secret"). */
export interface SecretRef {
  readonly namespace: string;
  readonly name: string;
}

export interface PullSecretRule {
  readonly registry: string;
  readonly secretName: string;
  readonly from: SecretRef | null;
}

export interface RegistrySources {
  /** Null when not set; setting both this and `blockedRegistries` is a policy error. */
  readonly allowedRegistries: readonly string[] | null;
  readonly blockedRegistries: readonly string[] | null;
  readonly insecureRegistries: readonly string[];
}

export interface RegistryPolicy {
  readonly name: string;
  readonly mode: Mode;
  readonly shortNames: {
    readonly registry: string;
    readonly aliases: Readonly<Record<string, string>>;
  };
  readonly mirrors: readonly MirrorRule[];
  readonly registrySources: RegistrySources;
  readonly pullSecrets: readonly PullSecretRule[];
  readonly sources: { readonly openshift: boolean };
  readonly exemptions: { readonly namespaces: readonly string[]; readonly images: readonly string[] };
  readonly rewriteTemplates: boolean;
}

export const POLICY_API_VERSION = 'registry-gate.io/v1alpha1';
export const POLICY_KIND = 'RegistryPolicy';
