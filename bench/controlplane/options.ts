/** The run's settings, chosen with bench/controlplane/run.mjs' flags and handed over in one environment variable. */
export interface Options {
  /** Measured seconds at the fixed rate, per phase. */
  readonly duration: number;
  /** Unmeasured seconds at the fixed rate before each phase. */
  readonly warmup: number;
  /** Seconds of the saturating closed loop, per phase. */
  readonly saturate: number;
  readonly concurrency: number;
  readonly rate: number;
  /** Each round is a baseline phase then a gate phase. */
  readonly rounds: number;
  /** The JSON file; default bench/results/controlplane-<time>.json. */
  readonly out: string | null;
}

export const ENV = 'REGISTRY_GATE_CPBENCH';

export const DEFAULTS: Options = {
  duration: 20,
  warmup: 3,
  saturate: 5,
  concurrency: 8,
  rate: 50,
  rounds: 2,
  out: null,
};

/** `--quick`, for trying changes: five seconds at the rate, one round; explicit flags still win. */
export const QUICK: Partial<Options> = { duration: 5, warmup: 1, saturate: 3, rounds: 1 };

/** Checks every setting once, here, so a typo is a message and not a strange run. */
export function readOptions(text: string | undefined): Options {
  const given: unknown = text ? JSON.parse(text) : {};
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    throw new Error(`${ENV}: not an object`);
  const { quick, ...rest } = given as Record<string, unknown>;
  if (quick !== undefined && typeof quick !== 'boolean')
    throw new Error(`${ENV}: quick must be true or false`);
  const out: Record<string, unknown> = { ...DEFAULTS, ...(quick ? QUICK : {}) };
  for (const [key, value] of Object.entries(rest)) {
    if (!(key in DEFAULTS)) throw new Error(`${ENV}: unknown setting ${key}`);
    if (key === 'out') {
      if (value !== null && typeof value !== 'string') throw new Error(`${ENV}: out must be a file name`);
    } else if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new Error(`${ENV}: ${key} must be a positive number, not ${JSON.stringify(value)}`);
    } else if (['concurrency', 'rounds'].includes(key) && !Number.isInteger(value)) {
      throw new Error(`${ENV}: ${key} must be a whole number`);
    }
    out[key] = value;
  }
  return out as unknown as Options;
}
