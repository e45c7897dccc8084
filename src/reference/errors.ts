/**
 * Why a string is not an image reference. The codes are ours and stable; the messages are the exact words of
 * github.com/distribution/reference and opencontainers/go-digest, so that what we print matches what the kubelet
 * and container runtimes would say about the same string.
 */
export type ReferenceErrorCode =
  | 'INVALID_FORMAT'
  | 'NAME_EMPTY'
  | 'NAME_CONTAINS_UPPERCASE'
  | 'NAME_TOO_LONG'
  | 'REPOSITORY_NOT_LOWERCASE'
  | 'HEX_IDENTIFIER'
  | 'DIGEST_INVALID_FORMAT'
  | 'DIGEST_INVALID_LENGTH'
  | 'DIGEST_UNSUPPORTED';

export interface ReferenceError {
  readonly code: ReferenceErrorCode;
  readonly message: string;
}

const fixedMessages = {
  INVALID_FORMAT: 'invalid reference format',
  NAME_EMPTY: 'repository name must have at least one component',
  NAME_CONTAINS_UPPERCASE: 'repository name must be lowercase',
  NAME_TOO_LONG: 'repository name must not be more than 255 characters',
  DIGEST_INVALID_FORMAT: 'invalid checksum digest format',
  DIGEST_INVALID_LENGTH: 'invalid checksum digest length',
  DIGEST_UNSUPPORTED: 'unsupported digest algorithm',
} as const satisfies Partial<Record<ReferenceErrorCode, string>>;

export function referenceError(code: keyof typeof fixedMessages): ReferenceError {
  return { code, message: fixedMessages[code] };
}

/** ParseNormalizedNamed's own error for a repository path with capitals (`Ubuntu`, `docker.io/Org/app`). */
export function repositoryNotLowercase(remote: string): ReferenceError {
  return {
    code: 'REPOSITORY_NOT_LOWERCASE',
    message: `invalid reference format: repository name (${remote}) must be lowercase`,
  };
}

/** A bare 64-hex string is an image ID, never a repository name: Docker refuses it to avoid the confusion. */
export function hexIdentifier(input: string): ReferenceError {
  return {
    code: 'HEX_IDENTIFIER',
    message: `invalid repository name (${input}), cannot specify 64-byte hexadecimal strings`,
  };
}
