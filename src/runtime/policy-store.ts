import { loadPolicyText, unrestrictedReason, type CompiledPolicy } from '../policy/index.js';

export interface ActivePolicy {
  readonly policy: CompiledPolicy;
  /** Counts loads since start (1 = the first policy), so logs can say which policy answered a request. */
  readonly generation: number;
  readonly origin: string;
}

export type ReloadResult =
  | { readonly result: 'unchanged' }
  | { readonly result: 'applied'; readonly active: ActivePolicy }
  | { readonly result: 'rejected'; readonly errors: readonly string[]; readonly active: ActivePolicy | null };

/**
 * Holds the policy in force. A new text replaces it only when valid; an invalid one is rejected and the last
 * good policy stays, so a bad ConfigMap edit never opens or closes the gate by accident.
 */
export class PolicyStore {
  private current: ActivePolicy | null = null;
  private lastText: string | null = null;
  private generation = 0;

  /** With `requireRestriction`, a policy that restricts no registry is rejected like an invalid one. */
  constructor(private readonly options: { readonly requireRestriction?: boolean } = {}) {}

  get active(): ActivePolicy | null {
    return this.current;
  }

  offer(text: string, origin: string): ReloadResult {
    if (text === this.lastText) return { result: 'unchanged' };
    this.lastText = text;
    const loaded = loadPolicyText(text);
    if (!loaded.ok) return { result: 'rejected', errors: loaded.errors, active: this.current };
    const unrestricted = this.options.requireRestriction ? unrestrictedReason(loaded.policy.spec) : null;
    if (unrestricted !== null) {
      return {
        result: 'rejected',
        errors: [`spec.registrySources: ${unrestricted} (refused by --require-restriction)`],
        active: this.current,
      };
    }
    this.generation++;
    this.current = { policy: loaded.policy, generation: this.generation, origin };
    return { result: 'applied', active: this.current };
  }
}
