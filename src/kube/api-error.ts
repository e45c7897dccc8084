// Free of @kubernetes/client-node, so that code which only describes or recognises a failed call (list-workloads,
// policy-configmap, the audit command) does not load the client, which costs the server 0.6 s and ~70 MB at start.

/** The HTTP status of a failed client-node call (ApiException carries `code`), or null for a network error. */
export function statusOf(err: unknown): number | null {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'number' ? code : null;
}

/**
 * A one-line description of a failed API call for the log. client-node's ApiException message embeds the whole
 * response body and headers; for Secrets that body could echo data, so only the status and the Status reason go out.
 */
export function describeApiError(err: unknown): string {
  const status = statusOf(err);
  if (status === null) return err instanceof Error ? err.message.split('\n')[0]!.slice(0, 200) : String(err);
  const body = (err as { body?: unknown }).body;
  let reason = '';
  try {
    const parsed: unknown = typeof body === 'string' ? JSON.parse(body) : body;
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      typeof (parsed as { reason?: unknown }).reason === 'string'
    )
      reason = ` ${(parsed as { reason: string }).reason}`;
  } catch {
    // not JSON: the status alone says enough
  }
  return `HTTP ${status}${reason}`;
}

/** Stable codes of what can go wrong between the CLI and a cluster (docs/auditing.md "Exit codes"). */
export type KubeErrorCode =
  /** No kubeconfig anywhere (and not in a Pod). */
  | 'KUBECONFIG_MISSING'
  /** A kubeconfig that cannot be read or used: unreadable, unparsable, no such context, no cluster. */
  | 'KUBECONFIG_INVALID'
  /** The API server could not be reached, or did not answer in time. */
  | 'API_UNREACHABLE'
  /** The API server answered with an error status (RBAC, not found, …); `status` has it. */
  | 'API_REFUSED'
  /** The API server answered with something that is not what was asked for. */
  | 'API_BAD_ANSWER'
  /** What the cluster holds is not usable (a policy ConfigMap without the key, or with an invalid policy). */
  | 'CLUSTER_CONTENT';

/** A failed call to the API server, said the way a person can act on it, with a stable code. */
export class KubeApiError extends Error {
  readonly code: KubeErrorCode;
  constructor(
    message: string,
    readonly status: number | null,
    options: { cause?: unknown; code?: KubeErrorCode } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = options.code ?? (status === null ? 'API_UNREACHABLE' : 'API_REFUSED');
  }
}
