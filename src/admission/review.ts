import { isRecord } from '../policy/index.js';

/**
 * The admission.k8s.io/v1 AdmissionReview envelope: checked once here, at the edge, for the fields the gate relies
 * on; the objects inside pass through untouched. https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/
 */
export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
const OPERATIONS: readonly string[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: GroupVersionKind;
  readonly subResource: string;
  readonly operation: Operation;
  readonly namespace: string;
  readonly name: string;
  readonly object: unknown;
  readonly oldObject: unknown;
  readonly dryRun: boolean;
}

export type ReviewResult = { ok: true; request: AdmissionRequest } | { ok: false; reason: string };

const optionalString = (v: unknown): v is string | undefined => v === undefined || typeof v === 'string';

/**
 * The longest identity string the apiserver can send: object names and API groups are DNS subdomains (253),
 * kinds, versions, namespaces and subresources shorter still, uids are UUIDs. Anything longer is not from an
 * apiserver, and these strings go into every log line and metric of the request.
 */
const MAX_IDENTITY_LENGTH = 253;

/**
 * Validates the envelope of a parsed request body; the reason says exactly what is wrong (HTTP 400): which field,
 * and what was expected, never the value, which may be huge, nested without end, or a credential.
 */
export function readAdmissionReview(body: unknown): ReviewResult {
  const fail = (reason: string): ReviewResult => ({ ok: false, reason });
  if (!isRecord(body)) return fail('body must be a JSON AdmissionReview object');
  if (body['apiVersion'] !== 'admission.k8s.io/v1') {
    return fail(
      'apiVersion must be admission.k8s.io/v1 (register the webhook with admissionReviewVersions: ["v1"])',
    );
  }
  if (body['kind'] !== 'AdmissionReview') return fail('kind must be AdmissionReview');
  const r = body['request'];
  if (!isRecord(r)) return fail('request is missing or not an object');
  const uid = r['uid'];
  if (typeof uid !== 'string' || uid === '') return fail('request.uid is missing or empty');
  const kind = r['kind'];
  if (
    !isRecord(kind) ||
    typeof kind['kind'] !== 'string' ||
    !optionalString(kind['group']) ||
    !optionalString(kind['version'])
  ) {
    return fail('request.kind must be {group, version, kind}');
  }
  const operation = r['operation'];
  if (typeof operation !== 'string' || !OPERATIONS.includes(operation)) {
    return fail(`request.operation must be one of ${OPERATIONS.join(', ')}`);
  }
  for (const field of ['namespace', 'name', 'subResource'] as const) {
    if (!optionalString(r[field])) return fail(`request.${field} must be a string`);
  }
  const identity: [string, unknown][] = [
    ['request.uid', uid],
    ['request.kind.group', kind['group']],
    ['request.kind.version', kind['version']],
    ['request.kind.kind', kind['kind']],
    ['request.namespace', r['namespace']],
    ['request.name', r['name']],
    ['request.subResource', r['subResource']],
  ];
  for (const [field, value] of identity) {
    if (typeof value === 'string' && value.length > MAX_IDENTITY_LENGTH)
      return fail(`${field} must be at most ${MAX_IDENTITY_LENGTH} characters`);
  }
  if (r['dryRun'] !== undefined && typeof r['dryRun'] !== 'boolean')
    return fail('request.dryRun must be a boolean');
  const object = r['object'] ?? null;
  const oldObject = r['oldObject'] ?? null;
  if ((operation === 'CREATE' || operation === 'UPDATE') && !isRecord(object)) {
    return fail(`request.object must be an object on ${operation}`);
  }
  if (operation === 'UPDATE' && !isRecord(oldObject))
    return fail('request.oldObject must be an object on UPDATE');
  return {
    ok: true,
    request: {
      uid,
      kind: {
        group: (kind['group'] as string | undefined) ?? '',
        version: (kind['version'] as string | undefined) ?? '',
        kind: kind['kind'],
      },
      subResource: (r['subResource'] as string | undefined) ?? '',
      operation: operation as Operation,
      namespace: (r['namespace'] as string | undefined) ?? '',
      name: (r['name'] as string | undefined) ?? '',
      object,
      oldObject,
      dryRun: r['dryRun'] === true,
    },
  };
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReviewResponse {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

export function reviewResponse(response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}
