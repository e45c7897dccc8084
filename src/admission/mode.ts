import type { Mode } from '../policy/index.js';

/**
 * What each mode does (docs/policy.md "Modes"): enforce rewrites, injects and denies; warn rewrites and injects
 * but only warns where enforce would deny; audit changes nothing and says nothing to the client: decisions are
 * logged and counted only.
 */
export interface ModeEffects {
  readonly mutates: boolean;
  readonly denies: boolean;
  readonly warns: boolean;
}

const effects: Record<Mode, ModeEffects> = {
  enforce: { mutates: true, denies: true, warns: true },
  warn: { mutates: true, denies: false, warns: true },
  audit: { mutates: false, denies: false, warns: false },
};

export function modeEffects(mode: Mode): ModeEffects {
  return effects[mode];
}
