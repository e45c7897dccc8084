import { jsonPointer } from '../engine/index.js';
import { isRecord } from '../policy/index.js';
import { ORIGINAL_IMAGES_ANNOTATION } from './original-images.js';

/** RFC 6902 operations the mutator emits: `replace` an image, `add` secrets and annotations. */
export type PatchOperation =
  { op: 'replace'; path: string; value: string } | { op: 'add'; path: string; value: unknown };

/**
 * Adds pull secrets under strict RFC 6902: the whole array when the field is absent (a pointer into a missing
 * array fails), one `/-` append per missing name otherwise, keeping what is already there and its order.
 */
export function pullSecretOps(
  specPath: readonly string[],
  existing: readonly string[] | null,
  wanted: readonly string[],
): PatchOperation[] {
  const missing = wanted.filter((name) => !(existing ?? []).includes(name));
  if (missing.length === 0) return [];
  const path = jsonPointer([...specPath, 'imagePullSecrets']);
  if (existing === null) return [{ op: 'add', path, value: missing.map((name) => ({ name })) }];
  return missing.map((name) => ({ op: 'add', path: `${path}/-`, value: { name } }));
}

/** The annotations map of a metadata object, when it has one. */
export function annotationsOf(metadata: unknown): Record<string, unknown> | null {
  return isRecord(metadata) && isRecord(metadata['annotations']) ? metadata['annotations'] : null;
}

/**
 * Sets the original-images annotation to `value` (originalImagesValue: the images as written before a rewrite,
 * merged with what an earlier pass recorded). `add` on an existing member replaces it (RFC 6902 4.1); the map
 * itself, or the whole metadata, is added when absent.
 */
export function originalImagesOps(
  metadataPath: readonly string[],
  metadata: unknown,
  value: string,
): PatchOperation[] {
  const annotations = annotationsOf(metadata);
  if (!isRecord(metadata)) {
    // A pod template may have no metadata at all (a CronJob's job template, say).
    const metadataValue = { annotations: { [ORIGINAL_IMAGES_ANNOTATION]: value } };
    return [{ op: 'add', path: jsonPointer(metadataPath), value: metadataValue }];
  }
  if (annotations === null) {
    const annotationsValue = { [ORIGINAL_IMAGES_ANNOTATION]: value };
    return [{ op: 'add', path: jsonPointer([...metadataPath, 'annotations']), value: annotationsValue }];
  }
  return [
    { op: 'add', path: jsonPointer([...metadataPath, 'annotations', ORIGINAL_IMAGES_ANNOTATION]), value },
  ];
}
