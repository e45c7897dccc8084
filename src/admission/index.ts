export { clip } from './bounds.js';
export { DecisionCache } from './decision-cache.js';
export {
  evaluateRequest,
  type DecideImage,
  type Finding,
  type Phase,
  type RequestEvaluation,
} from './evaluate-request.js';
export { findImages, type ImageSite } from './image-walk.js';
export { MirrorMemo, mirrorLookups, withMirrorAnswers } from './mirror-answers.js';
export { mutate, type AdmissionContext } from './mutate.js';
export type { AdmissionOutcome, Rewrite } from './outcome.js';
export { ORIGINAL_IMAGES_ANNOTATION } from './original-images.js';
export { podSpecLocation, POD_BEARING_KINDS } from './pod-spec-table.js';
export {
  readAdmissionReview,
  reviewResponse,
  type AdmissionRequest,
  type AdmissionResponse,
  type AdmissionReviewResponse,
} from './review.js';
export { validate } from './validate.js';
