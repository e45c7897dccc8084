/**
 * Size bounds on everything the gate writes back from what a request holds (denial messages, warnings,
 * annotations, log fields). An object may carry tens of thousands of containers and names or images of any length
 * (the apiserver validates them only after admission), so nothing that grows with the request may grow without
 * end: an answer of 10 MiB is a denial of service against the apiserver, the log and kubectl alike.
 */

/** Cuts `text` to at most `max` characters, marking the cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 3))}...`;
}

export interface Bounded<T> {
  readonly value: T;
  /** How many items did not fit. */
  readonly left: number;
}

/**
 * Joins items until the next would pass `maxChars`; reads them lazily, so a caller can pass a generator and never
 * build the text of the items that are left out.
 */
export function boundedJoin(
  items: Iterable<string>,
  count: number,
  separator: string,
  maxChars: number,
): Bounded<string> {
  let text = '';
  let taken = 0;
  for (const item of items) {
    const next = taken === 0 ? item : `${separator}${item}`;
    if (text.length + next.length > maxChars) break;
    text += next;
    taken++;
  }
  return { value: text, left: count - taken };
}

/** Up to this many pairs, a map is built and stringified whole: the common case, a Pod of a few containers. */
const FAST_PAIRS = 64;

/**
 * A JSON object of `count` string pairs, `pairAt(0)` to `pairAt(count - 1)`, of at most `maxChars`: pairs that do
 * not fit are left out (and counted), never cut in half, so the result always parses. Strings only: nothing here
 * recurses. A small map is one JSON.stringify (a later pair wins on a repeated key); past FAST_PAIRS, or when that
 * is too long, pairs are written one by one, and past the first that does not fit the rest are only counted, so a
 * Pod of 30,000 containers builds no more text (a repeated key is then written twice; JSON.parse keeps the last).
 */
export function boundedJsonMap(
  count: number,
  pairAt: (i: number) => readonly [string, string],
  maxChars: number,
): Bounded<string> {
  if (count <= FAST_PAIRS) {
    const map: Record<string, string> = {};
    for (let i = 0; i < count; i++) {
      const [key, value] = pairAt(i);
      // Assigning "__proto__" would set the prototype: define that one as data, as JSON.parse does.
      if (key === '__proto__') {
        Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
      } else {
        map[key] = value;
      }
    }
    const text = JSON.stringify(map);
    if (text.length <= maxChars) return { value: text, left: 0 };
  }
  let body = '';
  let left = 0;
  for (let i = 0; i < count; i++) {
    if (left > 0) {
      left++;
      continue;
    }
    const [key, value] = pairAt(i);
    const pair = `${body === '' ? '' : ','}${JSON.stringify(key)}:${JSON.stringify(value)}`;
    if (body.length + pair.length + 2 > maxChars) left++;
    else body += pair;
  }
  return { value: `{${body}}`, left };
}
