export { namesRegistry, parseNormalizedReference, parseReference, type ParseResult } from './parse.js';
export {
  familiarString,
  formatReference,
  repositoryName,
  DOCKER_HUB,
  type ImageReference,
} from './reference.js';
export type { ReferenceError, ReferenceErrorCode } from './errors.js';
