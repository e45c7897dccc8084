export { boundedJoin, boundedJsonMap, clip, type Bounded } from './bounds.js';
export { DecisionCache } from './decision-cache.js';
export {
  evaluateWorkload,
  type Decide,
  type Finding,
  type Workload,
  type WorkloadEvaluation,
  type WorkloadOptions,
} from './evaluate-workload.js';
export { CONTAINER_LISTS, findImages, type ImageList, type ImageSite } from './image-walk.js';
export { getPath, jsonPointer } from './pointer.js';
export { podSpecLocation, POD_BEARING_KINDS, type PodSpecLocation } from './pod-spec-table.js';
