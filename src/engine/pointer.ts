import { isRecord } from '../policy/index.js';

/** RFC 6901 JSON Pointer from path segments: `~` is written `~0` and `/` is written `~1`, in that order. */
export function jsonPointer(segments: readonly (string | number)[]): string {
  let pointer = '';
  for (const segment of segments) {
    const s = String(segment);
    pointer +=
      s.includes('~') || s.includes('/') ? `/${s.replaceAll('~', '~0').replaceAll('/', '~1')}` : `/${s}`;
  }
  return pointer;
}

/** Follows a path into a parsed object; undefined when any step is missing. */
export function getPath(root: unknown, path: readonly string[]): unknown {
  let node = root;
  for (const key of path) {
    if (!isRecord(node)) return undefined;
    node = node[key];
  }
  return node;
}
