import { existsSync, readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The API client configuration: the file given, else the Pod's service account when running in a cluster, else
 * `$KUBECONFIG` / `~/.kube/config` (client-node's default order). Throws when the file cannot be read.
 */
export function loadKubeConfig(file: string | null): KubeConfig {
  const kc = new KubeConfig();
  if (file !== null) kc.loadFromFile(file);
  else if (process.env['KUBERNETES_SERVICE_HOST'] && existsSync(`${SERVICE_ACCOUNT_DIR}/token`))
    kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

/** The namespace the server runs in: the service account's namespace in a cluster, else `$POD_NAMESPACE`. */
export function currentNamespace(): string | null {
  try {
    return readFileSync(`${SERVICE_ACCOUNT_DIR}/namespace`, 'utf8').trim() || null;
  } catch {
    return process.env['POD_NAMESPACE'] || null;
  }
}
