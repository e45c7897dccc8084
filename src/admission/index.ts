export { admit, type Admission, type AdmitContext, type Webhook } from './admit.js';
export { mutate, type AdmissionContext } from './mutate.js';
export type { AdmissionOutcome, Rewrite } from './outcome.js';
export { ORIGINAL_IMAGES_ANNOTATION } from './patch.js';
export {
  readAdmissionReview,
  reviewResponse,
  type AdmissionRequest,
  type AdmissionResponse,
  type AdmissionReviewResponse,
} from './review.js';
export { validate } from './validate.js';
