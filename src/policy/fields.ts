import { distance } from 'fastest-levenshtein';

/**
 * A tiny reader for untrusted documents that records every problem with its field path
 * (`spec.mirrors[2].source: …`) instead of stopping at the first, as cert-manager's config validation does.
 */
export class FieldErrors {
  readonly messages: string[] = [];
  add(path: string, message: string): void {
    this.messages.push(`${path}: ${message}`);
  }
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object: not null, not an array. The one such check of the code base (documents, reviews, objects). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a map' : `${typeof value} ${JSON.stringify(value)}`;
}

/** Reads one map, reporting unknown keys (a typo such as `allowedRegistry` must not silently allow everything). */
export class MapReader {
  private readonly seen = new Set<string>();
  constructor(
    private readonly value: Record<string, unknown>,
    readonly path: string,
    private readonly errors: FieldErrors,
  ) {}

  static of(value: unknown, path: string, errors: FieldErrors): MapReader | null {
    if (value === undefined || value === null) return new MapReader({}, path, errors);
    if (!isRecord(value)) {
      errors.add(path, `must be a map, not ${describe(value)}`);
      return null;
    }
    return new MapReader(value, path, errors);
  }

  keys(): string[] {
    return Object.keys(this.value);
  }

  raw(key: string): unknown {
    this.seen.add(key);
    return this.value[key];
  }

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  at(key: string): string {
    return `${this.path}.${key}`;
  }

  string(key: string, fallback: string): string {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string') {
      this.errors.add(this.at(key), `must be a string, not ${describe(v)}`);
      return fallback;
    }
    return v;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') {
      this.errors.add(this.at(key), `must be true or false, not ${describe(v)}`);
      return fallback;
    }
    return v;
  }

  /** One of a closed set of strings; anything else is an error naming the choices, and gives the fallback. */
  oneOf<T extends string>(key: string, choices: readonly T[], fallback: T): T {
    const text = this.string(key, fallback);
    if ((choices as readonly string[]).includes(text)) return text as T;
    this.errors.add(this.at(key), `must be one of ${choices.join(', ')}, not "${text}"`);
    return fallback;
  }

  /** A list of strings; null when absent. */
  stringList(key: string): string[] | null {
    const v = this.raw(key);
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v)) {
      this.errors.add(this.at(key), `must be a list of strings, not ${describe(v)}`);
      return [];
    }
    const out: string[] = [];
    v.forEach((item: unknown, i) => {
      if (typeof item === 'string') out.push(item);
      else this.errors.add(`${this.at(key)}[${i}]`, `must be a string, not ${describe(item)}`);
    });
    return out;
  }

  list(key: string): unknown[] {
    const v = this.raw(key);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.errors.add(this.at(key), `must be a list, not ${describe(v)}`);
      return [];
    }
    return v;
  }

  /** Call last: reports every key that no reader asked for, with the known field it most likely meant. */
  rejectUnknown(): void {
    for (const key of Object.keys(this.value)) {
      if (this.seen.has(key)) continue;
      const meant = didYouMean(key, [...this.seen]);
      this.errors.add(
        this.at(key),
        meant === null ? 'unknown field' : `unknown field (did you mean "${meant}"?)`,
      );
    }
  }
}

/**
 * The known field closest to a misspelled one, when it is close enough to be a typo: the same letters in
 * another case, or at most a third of the word's letters away (`allowedRegistry`, `registrysources`), as
 * commander suggests options. Null when nothing is that close.
 */
export function didYouMean(key: string, known: readonly string[]): string | null {
  let best: { field: string; cost: number } | null = null;
  for (const field of known) {
    const cost = field.toLowerCase() === key.toLowerCase() ? 0 : distance(key, field);
    if (cost <= Math.max(1, Math.floor(field.length / 3)) && (best === null || cost < best.cost))
      best = { field, cost };
  }
  return best?.field ?? null;
}
