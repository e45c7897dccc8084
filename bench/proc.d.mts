// Types of proc.mjs, for the TypeScript parts of the benchmark (bench/controlplane/).

export const CLOCK_TICKS: number;
export function processTicks(pid: number | string): { ticks: number; comm: string } | null;
export function rssBytes(pid: number | string): number | null;
export function cpuBusyTicks(): Record<string, number>;
export function allProcessTicks(): Map<number, { ticks: number; comm: string }>;
export function cpuWindow(serverPid: number): {
  end(): {
    seconds: number;
    serverCpuSeconds: number;
    loadGeneratorCpuSeconds: number;
    othersCpuPct: number;
    topOthers: { pid: number; comm: string; cpuPct: number }[];
  };
};
export function round(n: number, digits?: number): number;
