// Pod creates through the real kube-apiserver of the e2e harness (server-side dry-run), interleaved: without
// webhooks, with two stand-ins registered in registry-gate's place (stand-in.ts: the cheapest webhook, and one
// replaying registry-gate's answers), and with the registry-gate webhooks. A benchmark, hosted by vitest for the
// e2e globalSetup and TypeScript: it prints figures and writes JSON, and fails only when it cannot measure. Run it
// with `npm run bench:controlplane` (bench/controlplane/run.mjs); docs/benchmarks.md explains the figures.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { it } from 'vitest';
import {
  cluster,
  createNamespace,
  repoRoot,
  skipReason,
  startGate,
  type Gate,
} from '../../test/e2e/harness/index.js';
import { SMALL_POLICY } from '../workloads.mjs';
import { apiClient } from './apiserver-client.js';
import { meansBetween, snapshot } from './apiserver-metrics.js';
import { connectionsOf } from './connections.js';
import { cpuWindow, ourProcesses } from './cpu.js';
import { atFixedRate, saturating, type Sample } from './load.js';
import { ENV, readOptions } from './options.js';
import { MODES, NOISY_PCT, windowOf, type GateTime, type Mode, type Phase } from './phase.js';
import { benchPod, checkCreated, type Expected } from './pod.js';
import {
  NAMESPACE,
  expectedFor,
  gateLineCount,
  gateLines,
  register,
  webhookCalls,
  type Bench,
} from './registration.js';
import { printPhase, printSummary } from './report.js';
import { recordGateAnswers, startStandIn, type StandIn, type StandInKind } from './stand-in.js';
import { pool, targets, type Pooled } from './summary.js';

const write = (s: string): void => void process.stdout.write(s);
const now = (): number => Number(process.hrtime.bigint()) / 1e6;

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
