// Pod creates through the real kube-apiserver of the e2e harness (server-side dry-run), interleaved: without
// webhooks, with two stand-ins registered in registry-gate's place (stand-in.ts: the cheapest webhook, and one
// replaying registry-gate's answers), and with the registry-gate webhooks. A benchmark hosted by vitest for the e2e globalSetup and TypeScript: it prints figures and
// writes JSON, and fails only when it cannot measure. Run it with `npm run bench:controlplane`
// (bench/controlplane/run.mjs); docs/benchmarks.md explains the figures.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { it } from 'vitest';
import {
  cluster,
  createNamespace,
  ok,
  repoRoot,
  skipReason,
  startGate,
  waitFor,
  type Gate,
  type Kubectl,
} from '../../test/e2e/harness/index.js';
import { SMALL_POLICY } from '../workloads.mjs';
import { apiClient, type ApiClient } from './apiserver-client.js';
import { meansBetween, snapshot, type Snapshot } from './apiserver-metrics.js';
import { connectionsOf } from './connections.js';
import { cpuWindow, ourProcesses } from './cpu.js';
import { atFixedRate, saturating, type Sample } from './load.js';
import { ENV, readOptions, type Options } from './options.js';
import { benchPod, checkCreated, type BenchPod, type Expected } from './pod.js';
import { recordGateAnswers, startStandIn, type StandIn, type StandInKind } from './stand-in.js';
import {
  MODES,
  NOISY_PCT,
  pool,
  printPhase,
  printSummary,
  targets,
  windowOf,
  type GateTime,
  type Mode,
  type Phase,
  type Pooled,
} from './report.js';

const NAMESPACE = 'bench-tenant';
const WEBHOOK_CONFIGURATIONS = [
  'mutatingwebhookconfiguration/registry-gate',
  'validatingwebhookconfiguration/registry-gate',
];
/** The manifests/base entries that serve a tenant namespace without labels (fail closed, enforce). */
const TENANT_WEBHOOKS = { mutate: 'mutate.registry-gate.io', validate: 'validate.registry-gate.io' } as const;
const write = (s: string): void => void process.stdout.write(s);
const now = (): number => Number(process.hrtime.bigint()) / 1e6;

interface Bench {
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
const expectedFor = (bench: Bench, mode: Mode): Expected => {
  const rewritten = mode === 'gate' || mode === 'replay';
  return {
    images: rewritten ? bench.pod.mirrored : bench.pod.original,
    pullSecret: bench.pod.pullSecret,
    rewritten,
  };
};

function sender(bench: Bench, expected: Expected): () => Promise<Sample> {
  return async () => {
    const started = now();
    try {
      const reply = await bench.client.post(bench.path, bench.pod.body);
      return { ms: reply.ms, failure: checkCreated(reply, expected) };
    } catch (err) {
      return { ms: now() - started, failure: err instanceof Error ? err.message : String(err) };
    }
  };
}

/** The gate's admission log lines for the bench namespace, from line `from` on. */
async function gateLines(bench: Bench, from: number): Promise<Record<string, unknown>[]> {
  return (await bench.gate.logs())
    .slice(from)
    .filter((l) => l.msg === 'admission' && l.namespace === NAMESPACE);
}

const gateLineCount = async (bench: Bench): Promise<number> => (await bench.gate.logs()).length;

/** Calls of the tenant webhooks between two apiserver metric snapshots, whichever server answered them. */
function webhookCalls(before: Snapshot, after: Snapshot): { mutate: number; validate: number } {
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
async function register(bench: Bench, mode: Mode): Promise<void> {
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

function gateTimes(lines: readonly Record<string, unknown>[]): Record<string, GateTime> {
  const out: Record<string, GateTime> = {};
  for (const webhook of ['mutate', 'validate']) {
    const ms = lines
      .filter((l) => l.webhook === webhook && typeof l.ms === 'number')
      .map((l) => l.ms as number)
      .sort((a, b) => a - b);
    if (ms.length === 0) continue;
    const at = (q: number): number => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)] ?? 0;
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
    out[webhook] = { count: ms.length, p50: at(0.5), p99: at(0.99), mean: Math.round(mean * 100) / 100 };
  }
  return out;
}

function firstReasons(samples: readonly Sample[]): string[] {
  return [...new Set(samples.flatMap((s) => (s.failure === null ? [] : [s.failure])))].slice(0, 5);
}

async function runPhase(
  bench: Bench,
  round: number,
  mode: Mode,
): Promise<{ phase: Phase; samples: Sample[] }> {
  const { options } = bench;
  write(
    `\nround ${round} ${mode}: registering ${mode === 'baseline' ? 'no webhook' : `the ${mode} webhooks`}…\n`,
  );
  await register(bench, mode);
  const send = sender(bench, expectedFor(bench, mode));
  const warm = await atFixedRate(send, options.rate, options.warmup);

  const ours = ourProcesses(
    { [bench.controlPlaneDir]: 'control plane', [dirname(bench.gate.policyFile)]: 'registry-gate' },
    new Map([
      [bench.standIns.floor.pid, 'floor webhook'],
      [bench.standIns.replay.pid, 'replay webhook'],
    ]),
  );
  const mark = await gateLineCount(bench);
  const metricsBefore = await snapshot(bench.client);
  const cpuRate = cpuWindow(ours);
  const rated = await atFixedRate(send, options.rate, options.duration);
  const rateCpu = cpuRate.end();
  const port = mode === 'baseline' ? null : mode === 'gate' ? bench.gate.port : bench.standIns[mode].port;
  const connections = port === null ? null : connectionsOf(port);
  const rateEnded = Date.now();
  const metricsAfter = await snapshot(bench.client);

  const cpuSat = cpuWindow(ours);
  const sat = await saturating(send, options.concurrency, options.saturate);
  const satCpu = cpuSat.end();

  await sleep(300); // the gate logs asynchronously
  const lines = await gateLines(bench, mark);
  const rateLines = lines.filter((l) => typeof l.time === 'number' && l.time <= rateEnded);
  const calls = webhookCalls(metricsBefore, metricsAfter);
  const failures = firstReasons([...warm.samples, ...rated.samples, ...sat.samples]);
  const anomalies: string[] = [];
  const wanted = mode === 'baseline' ? 0 : rated.samples.length;
  if (calls.mutate !== wanted || calls.validate !== wanted) {
    anomalies.push(
      `the apiserver called the webhooks ${calls.mutate} + ${calls.validate} times for ${rated.samples.length} creates`,
    );
  }
  const gateWanted = mode === 'gate' ? 2 * (rated.samples.length + sat.samples.length) : 0;
  if (lines.length !== gateWanted) {
    anomalies.push(`registry-gate logged ${lines.length} admissions, not ${gateWanted}`);
  }
  const phase: Phase = {
    round,
    mode,
    warmupFailed: warm.samples.filter((s) => s.failure !== null).length,
    fixedRate: {
      ...windowOf(rated.samples, rated.seconds, rateCpu),
      rate: options.rate,
      maxLagMs: rated.maxLagMs,
      apiserver: meansBetween(metricsBefore, metricsAfter),
      gate: gateTimes(rateLines),
      connections,
      webhookCalls: calls,
    },
    saturating: { ...windowOf(sat.samples, sat.seconds, satCpu), concurrency: options.concurrency },
    failures,
    anomalies,
    noisy: rateCpu.othersPct > NOISY_PCT || satCpu.othersPct > NOISY_PCT,
  };
  printPhase(phase, write);
  return { phase, samples: rated.samples };
}

it('pod creates through the real apiserver: no webhook, two stand-ins, registry-gate', async () => {
  if (skipReason !== null) throw new Error(`no control plane: ${skipReason}`);
  const options = readOptions(process.env[ENV]);
  const { kubectl, kubeconfig, dir } = cluster();
  await createNamespace(kubectl, NAMESPACE);
  const pod = benchPod(NAMESPACE);
  const client = await apiClient(kubeconfig);
  let gate: Gate | undefined;
  const standIns: Partial<Record<StandInKind, StandIn>> = {};
  const phases: Phase[] = [];
  const samples: Record<Mode, Sample[]> = { baseline: [], floor: [], replay: [], gate: [] };
  try {
    gate = await startGate(kubectl, {
      policyYaml: JSON.stringify(SMALL_POLICY),
      // As deployed (manifests/base keeps the default); the harness polls every 200 ms so tests see reloads soon.
      args: ['--reload-interval=2000'],
    });
    standIns.floor = await startStandIn('floor');
    standIns.replay = await startStandIn('replay', await recordGateAnswers(gate, pod.body));
    const bench: Bench = {
      options,
      kubectl,
      controlPlaneDir: dir,
      client,
      pod,
      path: `/api/v1/namespaces/${NAMESPACE}/pods?dryRun=All`,
      gate,
      standIns: { floor: standIns.floor, replay: standIns.replay },
    };
    write(
      `\npod creates through kube-apiserver (server-side dry-run of a ${pod.body.length} B Pod; registry-gate rewrites ` +
        `its ${pod.original.length} images and adds pull secret ${pod.pullSecret}): per phase ${options.warmup} s ` +
        `warm-up, ${options.duration} s at ${options.rate}/s, ${options.saturate} s saturating with ` +
        `${options.concurrency} at a time; ${options.rounds} round(s) of ${MODES.join(', ')}\n`,
    );
    for (let round = 1; round <= options.rounds; round++) {
      for (const mode of MODES) {
        const { phase, samples: rated } = await runPhase(bench, round, mode);
        phases.push(phase);
        samples[mode].push(...rated);
      }
    }
  } finally {
    client.close();
    for (const standIn of Object.values(standIns)) await standIn.stop();
    await gate?.close();
  }

  const pooled = Object.fromEntries(MODES.map((m) => [m, pool(m, phases, samples[m])])) as Record<
    Mode,
    Pooled
  >;
  const checks = targets(pooled, phases, options.rate);
  const noisy = phases.filter((p) => p.noisy).length;
  printSummary(Object.values(pooled), checks, noisy, phases.length, write);

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = options.out ?? join(repoRoot, 'bench/results', `controlplane-${stamp}.json`);
  await mkdir(dirname(file), { recursive: true });
  const record = {
    at: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    options,
    podBytes: pod.body.length,
    noisy: noisy > 0,
    phases,
    pooled,
    targets: checks,
  };
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
  write(`\nwrote ${file}\n`);
});
