import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';
import {
  asksMirrors,
  verifiedMirrors,
  type CompiledPolicy,
  type MirrorAnswer,
  type MirrorLookup,
} from '../policy/index.js';
import { CREDENTIAL_STATES, type CredentialHealth } from '../registry/credential-health.js';
import { MirrorAsker, type ApiAccess, type MirrorOptions } from './mirror-asker.js';

export { DEFAULT_MIRROR_OPTIONS, type MirrorOptions } from './mirror-asker.js';

/**
 * serve's side: follows the policy, checks the credentials of every verified mirror at start, on reload and
 * every `intervalMs`, and reports them in `/readyz` (never failing readiness: a bad token must not take admission
 * down), the `registry_gate_mirror_credentials` gauge and a warn line whenever a mirror's state becomes bad.
 */
export class MirrorVerification {
  private policy: CompiledPolicy | null = null;
  private targets: readonly string[] = [];
  private asker: MirrorAsker | null = null;
  private starting: Promise<MirrorAsker | null> | null = null;
  private health = new Map<string, CredentialHealth>();
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private problem: string | null = null;

  constructor(
    private readonly options: MirrorOptions,
    private readonly api: ApiAccess | null,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** The asker, once a policy that asks mirrors has been applied (null until then, and for other policies). */
  get active(): MirrorAsker | null {
    return this.policy !== null && asksMirrors(this.policy) ? this.asker : null;
  }

  /** A new policy is in force: answers asked under the old one go, credentials are read and checked again. */
  follow(policy: CompiledPolicy): Promise<void> {
    this.policy = policy;
    this.targets = verifiedMirrors(policy).map((t) => t.mirror);
    if (!asksMirrors(policy)) {
      this.report([]);
      return Promise.resolve();
    }
    this.asker?.checker.reset();
    if (this.timer === null) {
      this.timer = setInterval(() => void this.check(), this.intervalMs);
      this.timer.unref();
    }
    return this.check();
  }

  /** Starts the asker the first time a policy asks: reading the CA file, connecting to the API if need be. */
  async ready(): Promise<MirrorAsker | null> {
    if (this.asker !== null) return this.asker;
    this.starting ??= MirrorAsker.create(this.options, this.api, () => this.policy, this.metrics).then(
      (asker) => {
        this.asker = asker;
        this.problem = null;
        return asker;
      },
      (err: unknown) => {
        this.problem = err instanceof Error ? err.message : String(err);
        this.logger.error({ reason: this.problem }, 'mirror verification cannot start');
        this.starting = null;
        return null;
      },
    );
    return this.starting;
  }

  /**
   * One review's look-ups, asked within the budget. Before the asker exists (its start is still reading the CA
   * file) this waits for it; when it could not start, every look-up is an error with the reason, for `onError`.
   */
  async ask(lookups: readonly MirrorLookup[]): Promise<Map<string, MirrorAnswer>> {
    const asker = this.asker ?? (await this.ready());
    if (asker !== null) return asker.ask(lookups);
    const reason = `mirror verification could not start: ${this.problem ?? 'unknown'}`;
    return new Map(lookups.map((l) => [l.key, { status: 'error', httpStatus: null, reason }]));
  }

  /** One round: re-read the secrets, then `GET /v2/` on every verified mirror. Rounds never overlap. */
  check(): Promise<void> {
    this.round ??= this.runRound().finally(() => {
      this.round = null;
    });
    return this.round;
  }

  private async runRound(): Promise<void> {
    const policy = this.policy;
    if (policy === null || !asksMirrors(policy)) return;
    const asker = await this.ready();
    if (asker === null) return;
    if (await asker.refresh(policy))
      this.logger.info('pull secrets changed: mirror answers and tokens forgotten');
    this.report(await asker.health(verifiedMirrors(policy)));
  }

  private report(results: readonly CredentialHealth[]): void {
    const next = new Map(results.map((h) => [h.mirror, h]));
    for (const [mirror, h] of next) {
      const before = this.health.get(mirror);
      for (const state of CREDENTIAL_STATES)
        this.metrics.mirrorCredentials.set({ mirror, state }, state === h.state ? 1 : 0);
      const good = h.state === 'ok' || h.state === 'anonymous';
      if (!good && (before === undefined || before.state !== h.state || before.reason !== h.reason)) {
        this.logger.warn(
          { mirror, state: h.state, secret: h.secret, reason: h.reason },
          'mirror credentials do not work',
        );
      } else if (good && before !== undefined && before.state !== h.state) {
        this.logger.info({ mirror, state: h.state, secret: h.secret }, 'mirror credentials work again');
      }
    }
    for (const mirror of this.health.keys()) {
      if (!next.has(mirror))
        for (const state of CREDENTIAL_STATES) this.metrics.mirrorCredentials.remove({ mirror, state });
    }
    this.health = next;
  }

  /** `/readyz` lines, one per verified mirror: its credential state and why. Never makes the server unready. */
  readiness(): Record<string, string> {
    if (this.problem !== null) return { mirrors: this.problem };
    const checks: Record<string, string> = {};
    for (const mirror of this.targets) {
      const h = this.health.get(mirror);
      checks[`mirror ${mirror}`] =
        h === undefined ? 'credentials not checked yet' : `credentials ${h.state}: ${h.reason}`;
    }
    return checks;
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    await this.round;
    this.asker?.close();
  }
}
