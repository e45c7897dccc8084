import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeApiError } from './api-error.js';
import { SERVICE_ACCOUNT_DIR } from './namespace.js';

export interface KubeConfigChoice {
  /** A kubeconfig context other than the current one. */
  readonly context?: string | undefined;
  /**
   * Use the Pod's service account whenever the process runs in a cluster, before $KUBECONFIG and ~/.kube/config
   * (the server); otherwise kubectl's order, the service account last (the CLI commands).
   */
  readonly preferInCluster?: boolean;
}

/**
 * The API client configuration: the file given, else as `choice` says. Every failure is a KubeApiError with a
 * code and one line a person can act on, never client-node's own: with no kubeconfig anywhere it falls back
 * to `http://localhost:8080` and fails later with "HTTP protocol is not allowed when skipTLSVerify is not set".
 */
export function loadKubeConfig(file: string | null | undefined, choice: KubeConfigChoice = {}): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (file !== null && file !== undefined) kc.loadFromFile(file);
    else if (choice.preferInCluster === true && inCluster()) kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (err) {
    // client-node throws plain errors for an unreadable or unparsable file; only the first line: a parse error
    // may quote the file, tokens included.
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
    throw new KubeApiError(`cannot load ${file ?? 'the kubeconfig'}: ${reason}`, null, {
      code: 'KUBECONFIG_INVALID',
      cause: err,
    });
  }
  if (isClientNodeFallback(kc)) {
    throw new KubeApiError(
      'no kubeconfig found: pass --kubeconfig FILE, set $KUBECONFIG, or create ~/.kube/config (in a Pod, the service account is used)',
      null,
      { code: 'KUBECONFIG_MISSING' },
    );
  }
  if (choice.context !== undefined) {
    if (kc.getContextObject(choice.context) === null)
      throw new KubeApiError(`the kubeconfig has no context "${choice.context}"`, null, {
        code: 'KUBECONFIG_INVALID',
      });
    kc.setCurrentContext(choice.context);
  }
  if (kc.getCurrentCluster() === null)
    throw new KubeApiError('the kubeconfig names no current cluster', null, { code: 'KUBECONFIG_INVALID' });
  return kc;
}

function inCluster(): boolean {
  return Boolean(process.env['KUBERNETES_SERVICE_HOST']) && existsSync(`${SERVICE_ACCOUNT_DIR}/token`);
}

/** What client-node's loadFromDefault makes up when it finds nothing: one cluster at http://localhost:8080. */
function isClientNodeFallback(kc: KubeConfig): boolean {
  const cluster = kc.getCurrentCluster();
  return (
    kc.getCurrentContext() === 'loaded-context' &&
    kc.getClusters().length === 1 &&
    cluster?.name === 'cluster' &&
    cluster.server === 'http://localhost:8080' &&
    kc.getCurrentUser()?.name === 'user'
  );
}
