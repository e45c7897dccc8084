import { readFileSync } from 'node:fs';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The namespace the server runs in: the service account's namespace in a cluster, else `$POD_NAMESPACE`. */
export function currentNamespace(): string | null {
  try {
    return readFileSync(`${SERVICE_ACCOUNT_DIR}/namespace`, 'utf8').trim() || null;
  } catch {
    return process.env['POD_NAMESPACE'] || null;
  }
}
