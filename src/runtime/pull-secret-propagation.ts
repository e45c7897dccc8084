import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';
import type { PullSecretController } from '../kube/pull-secret-controller.js';
import type { RegistryPolicy } from '../policy/index.js';
import { propagations } from '../pull-secrets/wanted.js';

/** Where pull-secret propagation (`pullSecrets[].from`) finds the API and its Lease. */
export interface PullSecretOptions {
  /** A kubeconfig file, or null: in-cluster when running in a Pod, else $KUBECONFIG / ~/.kube/config. */
  readonly kubeconfig: string | null;
  /** The gate's namespace: holds the Lease, gets no copies. */
  readonly namespace: string;
  /** This replica's name in the Lease. */
  readonly identity: string;
  readonly leaseDurationSeconds: number;
}

/**
 * Starts the pull-secret controller the first time the policy asks for a copy (`pullSecrets[].from`), then keeps
 * it following the policy: once started it stays, so removing the last entry deletes the copies it made.
 */
export class Propagation {
  private controller: PullSecretController | null = null;
  /** Set while the controller's modules load: the policy to give it once it exists. */
  private starting: Promise<void> | null = null;
  private latest: RegistryPolicy | null = null;
  private problem: string | null = null;

  constructor(
    private readonly options: {
      readonly logger: Logger;
      readonly pullSecrets?: PullSecretOptions | undefined;
    },
    private readonly metrics: Metrics,
  ) {}

  follow(spec: RegistryPolicy): void {
    this.latest = spec;
    if (this.controller === null && this.starting === null && propagations(spec).length > 0) {
      // A start that failed (no API access, a bad kubeconfig) is tried again by the next policy that asks.
      this.starting = this.start().finally(() => {
        if (this.controller === null) this.starting = null;
      });
    }
    this.controller?.setPolicy(spec);
  }

  /**
   * The controller and the Kubernetes client are imported here, the first time a policy asks for copies: a
   * server that never calls the API does not pay the client's 0.6 s and ~70 MB at start.
   */
  private async start(): Promise<void> {
    const { logger, pullSecrets } = this.options;
    if (pullSecrets === undefined) {
      this.problem = 'the policy names pull-secret sources but this server was started without API access';
      logger.error(this.problem);
      return;
    }
    try {
      const [{ loadKubeConfig }, { PullSecretController }] = await Promise.all([
        import('../kube/kube-config.js'),
        import('../kube/pull-secret-controller.js'),
      ]);
      this.controller = new PullSecretController({
        kubeConfig: loadKubeConfig(pullSecrets.kubeconfig, { preferInCluster: true }),
        namespace: pullSecrets.namespace,
        identity: pullSecrets.identity,
        leaseName: 'registry-gate-pull-secrets',
        leaseDurationSeconds: pullSecrets.leaseDurationSeconds,
        logger,
        metrics: this.metrics,
      });
      this.problem = null;
      if (this.latest !== null) this.controller.setPolicy(this.latest);
      logger.info(
        { namespace: pullSecrets.namespace, identity: pullSecrets.identity },
        'pull-secret propagation started',
      );
    } catch (err) {
      // The first line only: a kubeconfig parse error may quote the file, tokens included.
      const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
      this.problem = `cannot load the API configuration: ${reason.slice(0, 200)}`;
      logger.error({ reason: this.problem }, 'pull-secret propagation cannot start');
    }
  }

  missing(): ReadonlySet<string> {
    return this.controller?.missing ?? NONE;
  }

  /** A `/readyz` check line, only when propagation is asked for. It never makes the server unready. */
  readiness(): Record<string, string> {
    if (this.problem !== null) return { pullSecrets: this.problem };
    return this.controller === null ? {} : { pullSecrets: this.controller.status() };
  }

  async stop(): Promise<void> {
    await this.starting;
    await this.controller?.stop();
  }
}

const NONE: ReadonlySet<string> = new Set();
