import { readFileSync } from 'node:fs';
import fjp from 'fast-json-patch';

const cache = new Map<string, string>();

/** A fixture AdmissionReview from test/fixtures/admission, parsed fresh on every call (tests may mutate it). */
export function admissionFixture(name: string): AdmissionReviewBody {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`../fixtures/admission/${name}`, import.meta.url), 'utf8');
    cache.set(name, text);
  }
  return JSON.parse(text) as AdmissionReviewBody;
}

export interface AdmissionReviewBody {
  apiVersion: string;
  kind: string;
  request: {
    uid: string;
    kind: { group: string; version: string; kind: string };
    operation: string;
    namespace?: string;
    subResource?: string;
    dryRun?: boolean;
    object: Record<string, unknown> | null;
    oldObject: Record<string, unknown> | null;
    [key: string]: unknown;
  };
}

export interface ReviewAnswer {
  apiVersion: string;
  kind: string;
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; reason: string; message: string };
    patch?: string;
    patchType?: string;
    warnings?: string[];
    auditAnnotations?: Record<string, string>;
  };
}

export interface PatchOp {
  op: string;
  path: string;
  value?: unknown;
}

export function decodePatch(answer: ReviewAnswer): PatchOp[] {
  if (answer.response.patch === undefined) return [];
  return JSON.parse(Buffer.from(answer.response.patch, 'base64').toString('utf8')) as PatchOp[];
}

/**
 * Applies the answer's patch with a real RFC 6902 implementation, validating every operation (a pointer into a
 * missing array, an `add` to a missing parent, fails here as it would in the apiserver). Returns a new object.
 */
export function applyAnswer<T>(object: T, answer: ReviewAnswer): T {
  const ops = decodePatch(answer) as fjp.Operation[];
  return fjp.applyPatch(structuredClone(object), ops, true, false).newDocument;
}

/** A review with the given Pod spec, CREATE in `namespace`. */
export function podReview(
  spec: Record<string, unknown>,
  options: { namespace?: string; uid?: string; annotations?: Record<string, string> } = {},
): AdmissionReviewBody {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: options.uid ?? 'pod-uid-1',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: 'CREATE',
      namespace: options.namespace ?? 'team-a',
      name: 'p',
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'p',
          namespace: options.namespace ?? 'team-a',
          ...(options.annotations ? { annotations: options.annotations } : {}),
        },
        spec,
      },
      oldObject: null,
      dryRun: false,
    },
  };
}
