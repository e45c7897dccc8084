// What the kernel says about CPU time and memory (Linux /proc), so the benchmark measures the server's cost
// directly instead of inferring it from throughput, and notices when something else was using the CPUs.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

export const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime of one process (all its threads), in clock ticks; null once it is gone. */
export function processTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields are counted after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      ticks: Number(fields[11]) + Number(fields[12]),
      comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    };
  } catch {
    return null;
  }
}

/** Resident set size in bytes. */
export function rssBytes(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Busy ticks per CPU from /proc/stat (everything but idle and iowait). */
export function cpuBusyTicks() {
  const out = {};
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^(cpu\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = m[2].split(' ').map(Number);
    out[m[1]] = user + nice + system + irq + softirq + steal;
    void idle;
    void iowait;
  }
  return out;
}

/** CPU ticks of every process on the machine, by pid. */
export function allProcessTicks() {
  const out = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const t = processTicks(name);
    if (t) out.set(Number(name), t);
  }
  return out;
}

/**
 * A window over which CPU use is accounted: the server's ticks, ours (the load generator) and everyone else's.
 * `others` is the machine's busy time minus the two we own; the biggest other processes are named.
 */
export function cpuWindow(serverPid) {
  const start = {
    at: process.hrtime.bigint(),
    server: processTicks(serverPid)?.ticks ?? 0,
    self: processTicks(process.pid)?.ticks ?? 0,
    cpus: cpuBusyTicks(),
    all: allProcessTicks(),
  };
  return {
    end() {
      const seconds = Number(process.hrtime.bigint() - start.at) / 1e9;
      const server = (processTicks(serverPid)?.ticks ?? start.server) - start.server;
      const self = (processTicks(process.pid)?.ticks ?? start.self) - start.self;
      const cpus = cpuBusyTicks();
      const busy = Object.keys(cpus).reduce((sum, cpu) => sum + cpus[cpu] - (start.cpus[cpu] ?? 0), 0);
      const top = [];
      for (const [pid, now] of allProcessTicks()) {
        if (pid === serverPid || pid === process.pid) continue;
        const delta = now.ticks - (start.all.get(pid)?.ticks ?? now.ticks);
        if (delta > 0)
          top.push({ pid, comm: now.comm, cpuPct: round((100 * delta) / CLOCK_TICKS / seconds) });
      }
      top.sort((a, b) => b.cpuPct - a.cpuPct);
      const others = Math.max(0, busy - server - self);
      return {
        seconds,
        serverCpuSeconds: server / CLOCK_TICKS,
        loadGeneratorCpuSeconds: self / CLOCK_TICKS,
        // In percent of one core over the window.
        othersCpuPct: round((100 * others) / CLOCK_TICKS / seconds),
        topOthers: top.slice(0, 3),
      };
    },
  };
}

export const round = (n, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
