export { admit, type Admission, type AdmitContext, type MirrorQuestions, type Webhook } from './admit.js';
export { evaluateRequest, type Phase, type RequestEvaluation } from './evaluate-request.js';
export { MirrorMemo, mirrorLookups, withMirrorAnswers } from './mirror-answers.js';
export { mutate, type AdmissionContext } from './mutate.js';
export type { AdmissionOutcome, Rewrite } from './outcome.js';
export { ORIGINAL_IMAGES_ANNOTATION } from './original-images.js';
export {
  readAdmissionReview,
  reviewResponse,
  type AdmissionRequest,
  type AdmissionResponse,
  type AdmissionReviewResponse,
} from './review.js';
export { validate } from './validate.js';
