// The upstream grammar's own test vectors (test/fixtures/reference, see its README): every input must give
// exactly what distribution/reference gives, error message included.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { familiarString, formatReference, parseNormalizedReference, parseReference } from './index.js';
import type { ReferenceErrorCode } from './errors.js';

interface VectorOutcome {
  valid: boolean;
  errorKind?: string | null;
  errorMessage?: string | null;
  normalized?: string | null;
  familiar?: string | null;
  domain: string | null;
  path: string | null;
  tag: string | null;
  digest: string | null;
}
interface Vector extends VectorOutcome {
  input: string;
  origin: string;
  ifSha512Registered?: Partial<VectorOutcome>;
}

function loadVectors(file: string): Vector[] {
  const url = new URL(`../../test/fixtures/reference/${file}`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { cases: Vector[] }).cases;
}

/** Upstream error kinds as our stable codes. */
const codeByKind: Record<string, ReferenceErrorCode> = {
  ErrReferenceInvalidFormat: 'INVALID_FORMAT',
  ErrNameEmpty: 'NAME_EMPTY',
  ErrNameContainsUppercase: 'NAME_CONTAINS_UPPERCASE',
  ErrNameTooLong: 'NAME_TOO_LONG',
  RepositoryNameMustBeLowercase: 'REPOSITORY_NOT_LOWERCASE',
  InvalidRepositoryNameHexIdentifier: 'HEX_IDENTIFIER',
  'digest.ErrDigestInvalidFormat': 'DIGEST_INVALID_FORMAT',
  'digest.ErrDigestInvalidLength': 'DIGEST_INVALID_LENGTH',
  'digest.ErrDigestUnsupported': 'DIGEST_UNSUPPORTED',
};

/** We register sha384/sha512 as the image-pulling binaries do; the vectors say what changes then. */
function expected(v: Vector): VectorOutcome {
  return v.ifSha512Registered ? { ...v, errorKind: null, errorMessage: null, ...v.ifSha512Registered } : v;
}

const label = (v: Vector): string =>
  JSON.stringify(v.input.length > 80 ? `${v.input.slice(0, 77)}...` : v.input);

describe('ParseNormalizedNamed vectors', () => {
  const vectors = loadVectors('reference-normalize.json');
  it('has all 480 inputs', () => expect(vectors).toHaveLength(480));

  it.each(vectors.map((v) => [label(v), v] as const))('%s', (_name, v) => {
    const want = expected(v);
    const got = parseNormalizedReference(v.input);
    if (!want.valid) {
      expect(got.ok).toBe(false);
      if (got.ok) return;
      expect(got.error.code).toBe(codeByKind[want.errorKind ?? '']);
      expect(got.error.message).toBe(want.errorMessage);
      return;
    }
    expect(got.ok ? null : got.error).toBeNull();
    if (!got.ok) return;
    expect({
      normalized: formatReference(got.ref),
      familiar: familiarString(got.ref),
      domain: got.ref.domain,
      path: got.ref.path,
      tag: got.ref.tag,
      digest: got.ref.digest,
    }).toEqual({
      normalized: want.normalized,
      familiar: want.familiar,
      domain: want.domain,
      path: want.path,
      tag: want.tag,
      digest: want.digest,
    });
  });
});

describe('Parse vectors (no normalization)', () => {
  const vectors = loadVectors('reference-parse.json');
  it.each(vectors.map((v) => [label(v), v] as const))('%s', (_name, v) => {
    const want = expected(v);
    const got = parseReference(v.input);
    if (!want.valid) {
      expect(got.ok ? 'accepted' : got.error.code).toBe(codeByKind[want.errorKind ?? '']);
      return;
    }
    expect(
      got.ok
        ? { domain: got.ref.domain, path: got.ref.path, tag: got.ref.tag, digest: got.ref.digest }
        : got.error,
    ).toEqual({
      domain: want.domain,
      path: want.path,
      tag: want.tag,
      digest: want.digest,
    });
  });
});
