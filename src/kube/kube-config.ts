import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { SERVICE_ACCOUNT_DIR } from './namespace.js';

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
