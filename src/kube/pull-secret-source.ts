import { DOCKER_CONFIG_JSON_KEY, DOCKER_CONFIG_JSON_TYPE } from '../pull-secrets/docker-config.js';
import { stateOf, type SecretSource, type SecretState } from '../registry/credentials.js';
import type { KubeReader } from './api-client.js';
import { KubeApiError } from './api-error.js';

/** Where a pull secret named in the policy lives: its `from` source, else the gate's own namespace. */
export type SecretLocator = (secretName: string) => { readonly namespace: string; readonly name: string };

/**
 * The mirror check's credentials read through the API (when serve has API access and no `--pull-secrets-dir`):
 * one `GET` of the Secret per refresh, needing `get` on those Secrets only. The Secret's data never leaves this
 * function except as the parsed docker config; failures name the Secret and the HTTP status.
 */
export class KubeSecrets implements SecretSource {
  readonly description: string;

  constructor(
    private readonly api: KubeReader,
    private readonly locate: SecretLocator,
  ) {
    this.description = `Secrets read from ${api.server}`;
  }

  async read(secretName: string): Promise<SecretState> {
    const { namespace, name } = this.locate(secretName);
    const where = `Secret ${namespace}/${name}`;
    let secret: unknown;
    try {
      secret = await this.api.get(
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
      );
    } catch (err) {
      if (!(err instanceof KubeApiError)) throw err;
      if (err.status === 404) return { state: 'missing', reason: `${where} does not exist` };
      return {
        state: 'missing',
        reason: `${where} cannot be read (${err.status === null ? 'API unreachable' : `HTTP ${err.status}`})`,
      };
    }
    const record = typeof secret === 'object' && secret !== null ? (secret as Record<string, unknown>) : {};
    if (record['type'] !== DOCKER_CONFIG_JSON_TYPE)
      return { state: 'malformed', reason: `${where} is not of type ${DOCKER_CONFIG_JSON_TYPE}` };
    const data = record['data'];
    const encoded =
      typeof data === 'object' && data !== null
        ? (data as Record<string, unknown>)[DOCKER_CONFIG_JSON_KEY]
        : undefined;
    if (typeof encoded !== 'string')
      return { state: 'malformed', reason: `${where} has no ${DOCKER_CONFIG_JSON_KEY}` };
    return stateOf(Buffer.from(encoded, 'base64').toString('utf8'), where);
  }
}
