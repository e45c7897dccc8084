import { InvalidArgumentError } from 'commander';

/** commander argument parsers: a wrong value is a usage error that names what would be right. */
export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('use a port from 0 to 65535');
  return n;
}

export function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('use a whole number above 0');
  return n;
}

export function parseNonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('use a whole number, 0 or more');
  return n;
}

/** One of a fixed set of words: `text or json`. */
export function oneOf<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    const found = choices.find((c) => c === value);
    if (found === undefined) throw new InvalidArgumentError(`use ${alternatives(choices)}`);
    return found;
  };
}

/** `a or b`, `a, b or c`. */
function alternatives(choices: readonly string[]): string {
  return choices.length <= 2
    ? choices.join(' or ')
    : `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1] ?? ''}`;
}

export const OUTPUTS = ['text', 'json'] as const;
export type Output = (typeof OUTPUTS)[number];
export const parseOutput = oneOf(OUTPUTS);

/** pino's levels, checked here: pino throws a stack trace at an unknown one. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const parseLogLevel = oneOf(LOG_LEVELS);
