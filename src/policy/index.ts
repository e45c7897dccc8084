export type { CompiledPolicy, CompiledMirror } from './compiled.js';
export type { ImageDecision, Judge, Verdict, ViolationCode } from './decision.js';
export { DEFAULT_POLICY_YAML } from './default-policy.js';
export { evaluateImage, type ImageContext } from './evaluate.js';
export { loadPolicy, loadPolicyText, type PolicyResult } from './load.js';
export { unrestrictedReason } from './restriction.js';
export { MODES, type Mode, type RegistryPolicy } from './types.js';
export { isRecord } from './fields.js';
export { didYouMean } from './fields.js';
export { yamlErrorText } from './yaml-errors.js';
export type { MirrorAnswer } from './mirror-answer.js';
export {
  applyMirrorAnswer,
  asksMirrors,
  mirrorCommand,
  mirrorLookup,
  ocMirrorCommand,
  verifiedMirrors,
  type LookupPurpose,
  type MirrorLookup,
  type MirrorTarget,
} from './mirror-check.js';
