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

/**
 * A JSON object of string pairs, in order, of at most `maxChars`: pairs that do not fit are left out (and
 * counted), never cut in half, so the result always parses. Strings only: nothing here recurses.
 */
export function boundedJsonMap(
  pairs: Iterable<readonly [string, string]>,
  maxChars: number,
): Bounded<string> {
  let body = '';
  let left = 0;
  for (const [key, value] of pairs) {
    // Once one pair did not fit, the rest are only counted: a Pod of 30,000 containers builds no more text.
    if (left > 0) {
      left++;
      continue;
    }
    const pair = `${body === '' ? '' : ','}${JSON.stringify(key)}:${JSON.stringify(value)}`;
    if (body.length + pair.length + 2 > maxChars) left++;
    else body += pair;
  }
  return { value: `{${body}}`, left };
}
