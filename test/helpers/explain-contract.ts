/**
 * The fields of one `registry-gate explain -o json` record, in order: the contract of docs/architecture.md's "Contracts"
 * section that other tools parse. Written out here, not imported from src/, so a change to the code cannot
 * quietly change what the tests expect.
 */
export const EXPLAIN_CONTRACT_FIELDS = [
  'input',
  'valid',
  'error',
  'resolved',
  'domain',
  'path',
  'tag',
  'digest',
  'final',
  'mirror',
  'decision',
  'code',
  'rule',
  'pullSecrets',
  'warnings',
] as const;
