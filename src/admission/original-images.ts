import { boundedJsonMap } from '../engine/index.js';
import { isRecord } from '../policy/index.js';

export const ORIGINAL_IMAGES_ANNOTATION = 'registry-gate.io/original-images';

/**
 * The apiserver refuses objects whose annotations together pass 256 KiB (TotalAnnotationSizeLimitB), so a longer
 * value was never written by us and cannot be kept anyway.
 */
const MAX_READ_CHARS = 256 * 1024;
/** What we write: about 600 containers' worth; the rest is counted in a warning rather than recorded. */
export const MAX_WRITTEN_CHARS = 64 * 1024;

export type PreviousOriginals =
  | { readonly ok: true; readonly entries: ReadonlyMap<string, string> }
  | { readonly ok: false; readonly why: string };

/**
 * Reads what an earlier pass recorded (reinvocation), defensively: the annotation is tenant-writable, and a value
 * such as `{"a":[[[…5000 deep…]]]}` once reached JSON.stringify, which recursed until the stack overflowed (HTTP
 * 500, and with failurePolicy Ignore no mutation at all). Only what we write is accepted: a flat map of strings,
 * of bounded size. JSON.parse itself does not recurse in V8, and nothing here walks deeper than the top level.
 */
export function readOriginalImages(value: unknown): PreviousOriginals {
  if (value === undefined) return { ok: true, entries: new Map() };
  if (typeof value !== 'string') return { ok: false, why: 'not a string' };
  if (value.length > MAX_READ_CHARS) return { ok: false, why: `longer than ${MAX_READ_CHARS} characters` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { ok: false, why: 'not JSON' };
  }
  if (!isRecord(parsed)) return { ok: false, why: 'not a JSON object' };
  const entries = new Map<string, string>();
  for (const [key, image] of Object.entries(parsed)) {
    if (typeof image !== 'string') return { ok: false, why: 'a value is not a string' };
    entries.set(key, image);
  }
  return { ok: true, entries };
}

/**
 * The annotation value: what an earlier pass recorded, then this pass's `count` originals (`originalAt(i)`, which
 * win on the same key), as a flat JSON map of at most MAX_WRITTEN_CHARS. `left` counts the entries that did not
 * fit. Without an earlier record (the common case) nothing is built for the originals that do not fit.
 */
export function originalImagesValue(
  previous: ReadonlyMap<string, string>,
  count: number,
  originalAt: (i: number) => readonly [string, string],
): { value: string; left: number } {
  if (previous.size === 0) return boundedJsonMap(count, originalAt, MAX_WRITTEN_CHARS);
  const merged = new Map(previous);
  for (let i = 0; i < count; i++) {
    const [key, image] = originalAt(i);
    merged.set(key, image);
  }
  const pairs = [...merged];
  return boundedJsonMap(pairs.length, (i) => pairs[i]!, MAX_WRITTEN_CHARS);
}
