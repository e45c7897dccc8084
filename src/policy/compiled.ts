import type { ImageReference } from '../reference/index.js';
import type { RegistryEntry } from './entry.js';
import type { RuleIndex } from './rule-index.js';
import type { MirrorRule, RegistryPolicy } from './types.js';

export interface CompiledMirror extends MirrorRule {
  /** Position in `spec.mirrors`, for messages. */
  readonly index: number;
  /** Number of path components of the source: what a rewrite replaces. */
  readonly sourceDepth: number;
  readonly target: RegistryEntry;
}

export interface CompiledPullSecret {
  readonly order: number;
  readonly secretName: string;
}

/** A validated policy with its entries indexed for matching: built once per policy load, shared by requests. */
export interface CompiledPolicy {
  readonly spec: RegistryPolicy;
  readonly aliases: ReadonlyMap<string, ImageReference>;
  readonly shortNameRegistry: string;
  readonly allowed: RuleIndex<string> | null;
  readonly blocked: RuleIndex<string> | null;
  readonly insecure: RuleIndex<string>;
  readonly mirrors: RuleIndex<CompiledMirror>;
  readonly mirrorTargets: RuleIndex<CompiledMirror>;
  readonly pullSecrets: RuleIndex<CompiledPullSecret>;
  readonly exemptImages: RuleIndex<string>;
  readonly exemptNamespaces: ReadonlySet<string>;
}
