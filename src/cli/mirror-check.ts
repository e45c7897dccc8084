import {
  applyMirrorAnswer,
  mirrorLookup,
  type CompiledPolicy,
  type ImageDecision,
  type MirrorAnswer,
} from '../policy/index.js';
import type { MirrorCheckRecord } from './explain-record.js';
import { UsageError } from './errors.js';
import { DEFAULT_MIRROR_OPTIONS, MirrorAsker, MirrorOptionError } from '../runtime/mirror-asker.js';

/** `--check-mirror`, `--pull-secrets-dir`, `--mirror-ca-file` of `explain` and `audit`. */
export interface MirrorFlags {
  readonly checkMirror?: boolean;
  readonly pullSecretsDir?: string;
  readonly mirrorCaFile?: string;
}

/** A person waits for the CLI, not an apiserver: a longer budget than the webhook's, for many images at once. */
const CLI_BUDGET_MS = 15_000;
const CLI_REQUEST_TIMEOUT_MS = 5_000;

/**
 * Asks the mirrors about decisions exactly as admission does (the same look-ups, client, credentials and pure
 * step that folds the answers in), for `explain --check-mirror` and `audit --check-mirror`. Every image a mirror
 * serves is asked, whatever its `verify` says; `verify`, `pin` and `onError` then decide what the answer changes.
 * Credentials come from `--pull-secrets-dir` only (no cluster access for an offline command).
 */
export async function askMirrors(
  policy: CompiledPolicy,
  decisions: readonly ImageDecision[],
  flags: MirrorFlags,
): Promise<Map<string, MirrorAnswer>> {
  let asker: MirrorAsker;
  try {
    asker = await MirrorAsker.create(
      {
        ...DEFAULT_MIRROR_OPTIONS,
        pullSecretsDir: flags.pullSecretsDir ?? null,
        caFile: flags.mirrorCaFile ?? null,
        budgetMs: CLI_BUDGET_MS,
        requestTimeoutMs: CLI_REQUEST_TIMEOUT_MS,
      },
      null,
      () => policy,
    );
  } catch (err) {
    if (err instanceof MirrorOptionError) throw new UsageError(err.message);
    throw err;
  }
  try {
    await asker.refresh(policy);
    const lookups = decisions.flatMap((d) => mirrorLookup(policy, d, 'explain') ?? []);
    return await asker.ask(lookups);
  } finally {
    asker.close();
  }
}

/** The decision with the mirror's answer folded in, and the `mirrorCheck` that explains it. */
export function checkedDecision(
  policy: CompiledPolicy,
  decision: ImageDecision,
  answers: ReadonlyMap<string, MirrorAnswer>,
): { decision: ImageDecision; check: MirrorCheckRecord } {
  const lookup = mirrorLookup(policy, decision, 'explain');
  const answer = lookup === null ? undefined : answers.get(lookup.key);
  if (lookup === null || answer === undefined) {
    return {
      decision,
      check: { status: 'skipped', digest: null, httpStatus: null, reason: whySkipped(decision) },
    };
  }
  const check: MirrorCheckRecord =
    answer.status === 'found'
      ? { status: 'found', digest: answer.digest, httpStatus: answer.httpStatus, reason: null }
      : { status: answer.status, digest: null, httpStatus: answer.httpStatus, reason: answer.reason };
  return { decision: applyMirrorAnswer(decision, answer), check };
}

function whySkipped(d: ImageDecision): string {
  if (d.decision === 'exempt') return 'exempt';
  if (d.decision === 'deny') return `denied (${d.code ?? ''})`;
  return 'not on a mirror';
}
