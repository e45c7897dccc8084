import { referenceError, type ReferenceError } from './errors.js';

/**
 * opencontainers/go-digest v1.0.0 `Digest.Validate`, run on a digest the reference grammar already accepted.
 * The upstream test binaries register only sha256; the binaries that pull images (containerd, CRI-O, the
 * kubelet) link sha384 and sha512 as well, so we accept all three with their exact hex lengths.
 */
const hexLengthByAlgorithm: ReadonlyMap<string, number> = new Map([
  ['sha256', 64],
  ['sha384', 96],
  ['sha512', 128],
]);

// go-digest's DigestRegexpAnchored: ^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$ . Linear: the separator
// class and the component class are disjoint, so there is only one way to split.
const wellFormedUnknownDigest = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const lowerHex = /^[a-f0-9]+$/;

export function validateDigest(digest: string): ReferenceError | null {
  const colon = digest.indexOf(':');
  const algorithm = digest.slice(0, colon);
  const encoded = digest.slice(colon + 1);
  const expectedLength = hexLengthByAlgorithm.get(algorithm);
  if (expectedLength === undefined) {
    return referenceError(
      wellFormedUnknownDigest.test(digest) ? 'DIGEST_UNSUPPORTED' : 'DIGEST_INVALID_FORMAT',
    );
  }
  if (encoded.length !== expectedLength) return referenceError('DIGEST_INVALID_LENGTH');
  if (!lowerHex.test(encoded)) return referenceError('DIGEST_INVALID_FORMAT');
  return null;
}
