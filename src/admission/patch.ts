import { isRecord } from '../policy/index.js';
import { jsonPointer } from '../engine/index.js';

/** RFC 6902 operations the mutator emits: `replace` an image, `add` secrets and annotations. */
export type PatchOperation =
  { op: 'replace'; path: string; value: string } | { op: 'add'; path: string; value: unknown };

export const ORIGINAL_IMAGES_ANNOTATION = 'registry-gate.io/original-images';

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

/**
 * Records the images as written before a rewrite, merged with what an earlier pass recorded (reinvocation).
 * `add` on an existing member replaces it (RFC 6902 4.1); the map itself is added when absent.
 */
export function originalImagesOps(
  metadataPath: readonly string[],
  metadata: unknown,
  originals: Readonly<Record<string, string>>,
): PatchOperation[] {
  const annotations =
    isRecord(metadata) && isRecord(metadata['annotations']) ? metadata['annotations'] : null;
  const previous = annotations?.[ORIGINAL_IMAGES_ANNOTATION];
  let merged: Record<string, unknown> = { ...originals };
  if (typeof previous === 'string') {
    try {
      const parsed: unknown = JSON.parse(previous);
      if (isRecord(parsed)) merged = { ...parsed, ...originals };
    } catch {
      // Someone else's value: ours replaces it.
    }
  }
  const value = JSON.stringify(merged);
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
