import { setTimeout as sleep } from 'node:timers/promises';
import { ok, waitFor, type Gate, type Kubectl } from '../../test/e2e/harness/index.js';
import type { ApiClient } from './apiserver-client.js';
import { snapshot, type Snapshot } from './apiserver-metrics.js';
import type { Options } from './options.js';
import type { Mode } from './phase.js';
import { checkCreated, type BenchPod, type Expected } from './pod.js';
import type { StandIn, StandInKind } from './stand-in.js';

export const NAMESPACE = 'bench-tenant';
const WEBHOOK_CONFIGURATIONS = [
  'mutatingwebhookconfiguration/registry-gate',
  'validatingwebhookconfiguration/registry-gate',
];
/** The manifests/base entries that serve a tenant namespace without labels (fail closed, enforce). */
const TENANT_WEBHOOKS = { mutate: 'mutate.registry-gate.io', validate: 'validate.registry-gate.io' } as const;

/** What the run set up: the apiserver client, the Pod, registry-gate and its stand-ins. */
export interface Bench {
  readonly options: Options;
  readonly kubectl: Kubectl;
  readonly controlPlaneDir: string;
  readonly client: ApiClient;
  readonly pod: BenchPod;
  readonly path: string;
  readonly gate: Gate;
  readonly standIns: Record<StandInKind, StandIn>;
}

/** Registry-gate and the replay of its answers rewrite the images and add the pull secret; the others do not. */
export const expectedFor = (bench: Bench, mode: Mode): Expected => {
  const rewritten = mode === 'gate' || mode === 'replay';
  return {
    images: rewritten ? bench.pod.mirrored : bench.pod.original,
    pullSecret: bench.pod.pullSecret,
    rewritten,
  };
};

/** The gate's admission log lines for the bench namespace, from line `from` on. */
export async function gateLines(bench: Bench, from: number): Promise<Record<string, unknown>[]> {
  return (await bench.gate.logs())
    .slice(from)
    .filter((l) => l.msg === 'admission' && l.namespace === NAMESPACE);
}

export const gateLineCount = async (bench: Bench): Promise<number> => (await bench.gate.logs()).length;

/** Calls of the tenant webhooks between two apiserver metric snapshots, whichever server answered them. */
export function webhookCalls(before: Snapshot, after: Snapshot): { mutate: number; validate: number } {
  const calls = (name: string): number => {
    const series = `webhook call: ${name}`;
    return (after.get(series)?.count ?? 0) - (before.get(series)?.count ?? 0);
  };
  return { mutate: calls(TENANT_WEBHOOKS.mutate), validate: calls(TENANT_WEBHOOKS.validate) };
}

/**
 * Registers what `mode` needs: no webhook, or the manifests/base configurations calling registry-gate or a stand-in
 * (the harness' e2e overlay). Always through "none": the apiserver picks up each configuration on its own, and
 * after a create without calls, any call is sure to reach the server just registered.
 */
export async function register(bench: Bench, mode: Mode): Promise<void> {
  await ok(bench.kubectl(['delete', ...WEBHOOK_CONFIGURATIONS, '--ignore-not-found']));
  await settle(bench, 'baseline');
  if (mode === 'baseline') return;
  const overlay = mode === 'gate' ? bench.gate.overlay : bench.standIns[mode].overlay;
  await ok(bench.kubectl(['apply', '--server-side', '--force-conflicts', '-k', overlay]));
  await settle(bench, mode);
}

/**
 * Waits until one create shows the apiserver calling what `mode` wants: its own call counters say whether both
 * webhooks were called, the Pod that comes back whether it was rewritten, registry-gate's log whether it answered.
 */
async function settle(bench: Bench, mode: Mode): Promise<void> {
  const expected = expectedFor(bench, mode);
  const refused = await waitFor(
    `the apiserver to call ${mode === 'baseline' ? 'no webhook' : `the ${mode} webhooks`}`,
    async () => {
      const mark = await gateLineCount(bench);
      const before = await snapshot(bench.client);
      const reply = await bench.client.post(bench.path, bench.pod.body);
      const failure = checkCreated(reply, expected);
      // The apiserver found the Pod itself invalid: no wait mends that.
      if (reply.status === 400 || reply.status === 422) return failure;
      // Thrown, so that waitFor's timeout names the last reason.
      if (failure !== null) throw new Error(`a create came back with ${failure}`);
      const calls = webhookCalls(before, await snapshot(bench.client));
      if (mode === 'baseline' && calls.mutate + calls.validate > 0) throw new Error('webhooks still called');
      if (mode !== 'baseline' && (calls.mutate === 0 || calls.validate === 0))
        throw new Error('webhooks not called');
      await sleep(300); // the gate logs asynchronously
      const answered = new Set((await gateLines(bench, mark)).map((l) => l.webhook));
      if (mode === 'gate' && answered.size < 2)
        throw new Error('registry-gate not called for both webhooks yet');
      if (mode !== 'gate' && answered.size > 0) throw new Error('registry-gate still called');
      return null;
    },
    60_000,
    250,
  );
  if (refused !== null) throw new Error(`the apiserver refused the bench Pod: ${refused}`);
}
