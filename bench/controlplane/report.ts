import { round } from '../proc.mjs';
import { NOISY_PCT, type Phase } from './phase.js';
import type { CpuUse } from './cpu.js';
import type { Pooled, Target } from './summary.js';

const pad = (s: string | number, n: number): string => String(s).padStart(n);
const cpuText = (cpu: CpuUse): string =>
  `${Object.entries(cpu.ours)
    .map(([name, pct]) => `${name} ${pct}`)
    .join(', ')}; others ${cpu.othersPct}` +
  (cpu.othersPct > NOISY_PCT
    ? ` NOISY (${cpu.topOthers.map((t) => `${t.comm} ${t.cpuPct}`).join(', ')})`
    : '');

export function printPhase(p: Phase, write: (s: string) => void): void {
  const f = p.fixedRate;
  const s = p.saturating;
  const l = f.latencyMs;
  write(
    `round ${p.round} ${p.mode.padEnd(8)} at ${f.rate}/s: ${pad(l.creates, 5)} creates  p50/p99/max ` +
      `${pad(l.p50, 6)}/${pad(l.p99, 6)}/${pad(l.max, 6)} ms  failed ${l.failed}  (client lag max ${round(f.maxLagMs)} ms)\n`,
  );
  write(
    `    webhook calls ${f.webhookCalls.mutate} mutate, ${f.webhookCalls.validate} validate; CPU % of a core: ${cpuText(f.cpu)}\n`,
  );
  if (f.connections) {
    write(
      `    connections to the webhook server: ${f.connections.open} open, ${f.connections.closedLately} closed in the last minute\n`,
    );
  }
  for (const [webhook, t] of Object.entries(f.gate)) {
    write(
      `    gate's own time, ${webhook}: ${t.count} admissions, p50/p99 ${t.p50}/${t.p99} ms, mean ${t.mean} ms\n`,
    );
  }
  for (const [series, m] of Object.entries(f.apiserver)) {
    write(`    apiserver ${series}: mean ${m.meanMs} ms over ${m.count}\n`);
  }
  write(
    `  saturating, ${s.concurrency} at a time: ${pad(s.createsPerSec, 6)} creates/s  p50/p99 ` +
      `${s.latencyMs.p50}/${s.latencyMs.p99} ms  failed ${s.latencyMs.failed}; CPU µs per create: ` +
      `${Object.entries(s.cpuUsPerCreate)
        .map(([name, us]) => `${name} ${us}`)
        .join(', ')}\n    CPU % of a core: ${cpuText(s.cpu)}\n`,
  );
  for (const reason of p.failures) write(`    failed: ${reason}\n`);
  for (const anomaly of p.anomalies) write(`    wrong calls: ${anomaly}\n`);
}

export function printSummary(
  pooled: readonly Pooled[],
  checks: readonly Target[],
  noisy: number,
  phases: number,
  write: (s: string) => void,
): void {
  write('\nall rounds pooled\n');
  write(
    '| phase | fixed-rate creates | p50 ms | p99 ms | max ms | saturating creates/s | CPU µs per create (saturating) |\n',
  );
  write('| --- | ---: | ---: | ---: | ---: | ---: | --- |\n');
  for (const p of pooled) {
    const l = p.fixedRateMs;
    // Processes that idled through the phase (under 50 µs per create) are left out here; the JSON has them.
    const cpu = Object.entries(p.saturatingCpuUsPerCreate)
      .filter(([, us]) => us >= 50)
      .map(([name, us]) => `${name} ${us}`)
      .join(', ');
    write(`| ${p.mode} | ${l.creates} | ${l.p50} | ${l.p99} | ${l.max} | ${p.createsPerSec} | ${cpu} |\n`);
  }
  write(`\nwhere a create's time goes at the fixed rate (means in ms, all rounds)\n`);
  const columns = [
    ['whole create (apiserver)', 'request: POST pods?dryRun=All'],
    ['admission: mutating', 'admission step: admit'],
    ['webhook call /mutate', 'webhook call: mutate.registry-gate.io'],
    ["registry-gate's own /mutate", 'registry-gate /mutate'],
    ['admission: validating', 'admission step: validate'],
    ['webhook call /validate', 'webhook call: validate.registry-gate.io'],
    ["registry-gate's own /validate", 'registry-gate /validate'],
  ] as const;
  write(`| phase | ${columns.map(([title]) => title).join(' | ')} |\n`);
  write(`| --- |${' ---: |'.repeat(columns.length)}\n`);
  for (const p of pooled) {
    write(`| ${p.mode} | ${columns.map(([, key]) => p.meansMs[key] ?? '–').join(' | ')} |\n`);
  }
  const fewest = Math.min(...pooled.map((p) => p.fixedRateMs.creates));
  if (fewest < 1000) {
    write(`\n(${fewest} creates per kind of phase: too few for a steady p99; the default run pools 2,000)\n`);
  }
  write('\ntargets\n');
  for (const t of checks) {
    const verdict = t.pass === null ? '    ' : t.pass ? 'PASS' : 'FAIL';
    write(`  ${verdict}  ${t.target}: ${t.value} (want ${t.want})\n`);
  }
  if (noisy > 0) {
    write(
      `\nNOISY RUN: other processes used more than ${NOISY_PCT} % of a core during ${noisy} of ${phases} phases; ` +
        'repeat on a quiet machine before trusting the figures.\n',
    );
  }
}
