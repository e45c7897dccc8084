import { readFileSync, readdirSync } from 'node:fs';
import { CLOCK_TICKS, allProcessTicks, cpuBusyTicks, round } from '../proc.mjs';

/** CPU used over a window, in percent of one core, by each of our processes and by everything else. */
export interface CpuUse {
  readonly seconds: number;
  /** By process name: kube-apiserver, etcd, kube-controller-manager, registry-gate, floor webhook, load generator. */
  readonly ours: Record<string, number>;
  /** The machine's busy time minus ours. */
  readonly othersPct: number;
  readonly topOthers: { pid: number; comm: string; cpuPct: number }[];
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/**
 * Our processes by name: every process the harness starts names its directory in its arguments (the control
 * plane's, the gate's), this process generates the load, and `known` names others by pid.
 */
export function ourProcesses(
  markers: Record<string, string>,
  known: ReadonlyMap<number, string> = new Map(),
): Map<number, string> {
  // vitest's main process relays this worker's output: ours, though it hardly works.
  const found = new Map<number, string>([
    [process.pid, 'load generator'],
    [process.ppid, 'vitest'],
  ]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const line = commandLine(pid);
    for (const [marker, name] of Object.entries(markers)) {
      if (!line.includes(marker)) continue;
      // The control plane's binaries are told apart by their path; the gate is `node …/main.js serve`.
      const binary = line.split(' ')[0]?.split('/').pop() ?? name;
      found.set(pid, name === 'control plane' ? binary : name);
    }
  }
  for (const [pid, name] of known) found.set(pid, name);
  return found;
}

/** Starts a window; `end()` reports who used the CPUs meanwhile. */
export function cpuWindow(ours: Map<number, string>): { end(): CpuUse } {
  const started = process.hrtime.bigint();
  const before = allProcessTicks();
  const busyBefore = cpuBusyTicks();
  return {
    end() {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const after = allProcessTicks();
      const busyAfter = cpuBusyTicks();
      const busy = Object.keys(busyAfter).reduce(
        (n, cpu) => n + (busyAfter[cpu] ?? 0) - (busyBefore[cpu] ?? 0),
        0,
      );
      const pct = (ticks: number): number => round((100 * ticks) / CLOCK_TICKS / seconds);
      const byName: Record<string, number> = {};
      const others: { pid: number; comm: string; ticks: number }[] = [];
      let oursTicks = 0;
      for (const [pid, now] of after) {
        const delta = now.ticks - (before.get(pid)?.ticks ?? 0);
        if (delta <= 0) continue;
        const name = ours.get(pid);
        if (name === undefined) others.push({ pid, comm: now.comm, ticks: delta });
        else {
          byName[name] = (byName[name] ?? 0) + delta;
          oursTicks += delta;
        }
      }
      others.sort((a, b) => b.ticks - a.ticks);
      return {
        seconds: round(seconds, 2),
        ours: Object.fromEntries(Object.entries(byName).map(([name, ticks]) => [name, pct(ticks)])),
        othersPct: pct(Math.max(0, busy - oursTicks)),
        topOthers: others.slice(0, 3).map((o) => ({ pid: o.pid, comm: o.comm, cpuPct: pct(o.ticks) })),
      };
    },
  };
}
