// `npm run bench:controlplane`: pod creates through the real kube-apiserver with and without the registry-gate
// webhooks (bench/controlplane/creates.run.ts, run by vitest with the e2e harness). This wrapper reads the flags
// and runs vitest in a process group of its own, so that Ctrl-C or a failure stops everything the run started:
// etcd, kube-apiserver, kube-controller-manager and the gate. See docs/benchmarks.md.
//
//   node bench/controlplane/run.mjs [--quick] [--duration S] [--warmup S] [--saturate S] [--concurrency N]
//                                   [--rate N] [--rounds N] [--out FILE]
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));
const NUMBERS = ['duration', 'warmup', 'saturate', 'concurrency', 'rate', 'rounds'];

const USAGE = `usage: npm run bench:controlplane -- [options]
  --quick            short phases for trying changes (5 s at the rate, 1 round)
  --duration S       seconds at the fixed rate per phase (default 20)
  --warmup S         unmeasured seconds at the rate before each phase (default 3)
  --saturate S       seconds of the saturating closed loop per phase (default 5)
  --concurrency N    creates in flight in the saturating loop (default 8)
  --rate N           creates per second of the fixed rate (default 50)
  --rounds N         rounds of baseline, floor, replay, gate (default 2)
  --out FILE         the JSON (default bench/results/controlplane-<time>.json)
`;

function settings() {
  const { values } = parseArgs({
    options: {
      help: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      ...Object.fromEntries(NUMBERS.map((name) => [name, { type: 'string' }])),
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  // options.ts checks them again and applies the defaults and --quick's settings.
  const out = values.quick ? { quick: true } : {};
  for (const name of NUMBERS) {
    if (values[name] === undefined) continue;
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n <= 0)
      throw new Error(`--${name} must be a positive number, not ${values[name]}`);
    out[name] = n;
  }
  if (values.out) out.out = resolve(values.out);
  return out;
}

let options;
try {
  options = settings();
} catch (err) {
  process.stderr.write(`bench:controlplane: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  process.exit(2);
}

const child = spawn(
  process.execPath,
  [`${root}node_modules/vitest/vitest.mjs`, 'run', '--config', 'bench/controlplane/vitest.config.ts'],
  {
    cwd: root,
    stdio: 'inherit',
    detached: true, // its own process group: signalled as one below
    // A control plane that cannot start is a failure here, not a skip.
    env: { ...process.env, REGISTRY_GATE_E2E: 'required', REGISTRY_GATE_CPBENCH: JSON.stringify(options) },
  },
);

const groupAlive = () => {
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch {
    return false;
  }
};

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    interrupted = true;
    process.stderr.write(`\nbench:controlplane: ${signal}, stopping everything the run started…\n`);
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  });
}

child.on('exit', async (code, signal) => {
  // vitest is gone; whatever it started in its group (a gate still draining) gets 15 s, then SIGKILL.
  const deadline = Date.now() + 15_000;
  while (groupAlive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (groupAlive()) {
    process.stderr.write('bench:controlplane: processes of the run still alive after 15 s: killing them\n');
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  process.exitCode = interrupted ? 130 : (code ?? (signal ? 1 : 0));
});
