// `npm run bench`: registry-gate against bare node:https, bare https + JSON.parse and express 5 + express.json(),
// each pinned to CPU 0, autocannon in this process pinned to CPU 1, 127.0.0.1 only, a bounded time per cell.
// Prints req/s, p50/p99, server CPU µs per request and RSS per cell, then every target ratio of issue 12 with
// pass/fail, and writes everything as JSON to bench/results/. See docs/benchmarks.md.
//
//   node bench/run.mjs [--quick] [--duration S] [--warmup S] [--only REGEX] [--cpu-prof] [--compare DIST]
//                      [--rounds N] [--out FILE] [--no-mirror] [--help]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import jsonpatch from 'fast-json-patch';
import { cpuWindow, round, rssBytes } from './proc.mjs';
import { startMirror } from './mirror.mjs';
import { SMALL_POLICY, largePodReview, largePolicy, ruleCount, smallPodReview } from './workloads.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    only: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    out: { type: 'string' },
    // A dist/ directory of another build (e.g. the previous commit's), run as server "gate-before" with the
    // small policy right before "gate": what a change bought, measured in one run on the same machine state.
    compare: { type: 'string' },
    // Repeat every cell this many times, interleaved, and report medians: steadier figures on a busy machine.
    rounds: { type: 'string' },
    // Leave out the mirror-check servers (they need a real registry: Go-built tools and htpasswd).
    'no-mirror': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout
    .write(`node bench/run.mjs (npm run bench -- …): registry-gate's benchmark, see docs/benchmarks.md
  --quick            3 s cells after 1 s of warm-up (default 10 s after 2 s)
  --duration S       seconds measured per cell
  --warmup S         seconds of unmeasured warm-up before each cell
  --only REGEX       only the cells whose id matches, e.g. '^ka16-8k/' or 'mirror'
  --rounds N         every cell N times, interleaved; medians reported
  --compare DIST     also run another build's dist/ as server gate-before
  --cpu-prof         run the gate under node --cpu-prof (bench/results/profiles/)
  --no-mirror        leave out the mirror-check servers (gate-mirror-off, gate-mirror, gate-mirror-cold)
  --out FILE         where the JSON goes (default bench/results/bench-<time>.json)
`);
  process.exit(0);
}
const DURATION = Number(args.duration ?? (args.quick ? 3 : 10));
const WARMUP = Number(args.warmup ?? (args.quick ? 1 : 2));
const SERVER_CPU = '0';
const LOAD_CPU = '1';
const ROUNDS = Number(args.rounds ?? 1);
const GROUPS = [
  'ka16-8k',
  'ka64-8k',
  'ka16-50c',
  'ka16-50c37',
  'rate-50c37',
  'rate-50c37-cold',
  'newtls-8k',
  'rate-8k',
  'rate-50c',
  'ka16-8k-again',
  'ka16-50c-again',
];
/** Cells run once more after every round: does repeating a workload grow the gate's memory? */
const AGAIN = new Set(['ka16-8k-again', 'ka16-50c-again']);
const RATE = 200; // requests/s for the latency cells: modest, far from saturation
// A cold review of the 37-image Pod is 37 look-ups, each a bcrypt check in the registry (htpasswd): a rate the
// registry, sharing CPU 1 with the load generator, answers without queueing.
const COLD_RATE = 5;

function preflight() {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
  } catch {
    throw new Error('taskset not found: install util-linux (apt-get install util-linux)');
  }
  if (os.cpus().length < 2) throw new Error('needs two CPUs: one for the server, one for the load generator');
  if (!existsSync(join(root, 'dist/main.js'))) throw new Error('dist/main.js missing: run npm run build');
  // The load generator (this process, every thread) on its own core.
  execFileSync('taskset', ['-a', '-cp', LOAD_CPU, String(process.pid)], { stdio: 'ignore' });
}

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One HTTPS request to a bench server (certificate from our own throwaway CA: not verified). */
function request(port, method, path, body) {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        rejectUnauthorized: false,
        agent: false,
        headers: body ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Starts a server pinned to SERVER_CPU; resolves once it answers, with the time that took. */
async function startServer(name, argv, work) {
  const port = await freePort();
  const log = openSync(join(work, `${name}.log`), 'w');
  const started = process.hrtime.bigint();
  const child = spawn('taskset', ['-c', SERVER_CPU, process.execPath, ...argv(port)], {
    stdio: ['ignore', log, log],
  });
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited)
      throw new Error(
        `${name} exited at start (${JSON.stringify(exited)}): see ${join(work, `${name}.log`)}`,
      );
    if (Date.now() > deadline) throw new Error(`${name} not ready after 30 s`);
    const ok = await request(port, 'GET', '/readyz').then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await sleep(10);
  }
  const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    name,
    port,
    pid: child.pid,
    readyMs,
    async stop() {
      if (exited) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([done, sleep(30_000)]);
      if (!exited) child.kill('SIGKILL');
    },
  };
}

/**
 * A new TLS connection per request (full handshake, no session reuse), `connections` at a time, for `duration`
 * seconds. Not autocannon: its reconnectRate option drops the answered request from its count, and a
 * `Connection: close` header leaves it writing into closing sockets.
 */
async function loadNewConnections(port, cell) {
  const latencies = [];
  let errors = 0;
  let non2xx = 0;
  const end = Date.now() + cell.duration * 1000;
  const one = () =>
    new Promise((resolve) => {
      const started = process.hrtime.bigint();
      const req = https.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: cell.path,
          agent: false,
          rejectUnauthorized: false,
          headers: { 'content-type': 'application/json', connection: 'close' },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode < 200 || res.statusCode > 299) non2xx++;
            latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(cell.body);
    });
  await Promise.all(
    Array.from({ length: cell.connections }, async () => {
      while (Date.now() < end) await one();
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q) =>
    round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0, 0);
  return {
    requests: { total: latencies.length - non2xx },
    latency: { p50: at(0.5), p99: at(0.99), max: at(1) },
    errors,
    timeouts: 0,
    non2xx,
  };
}

function load(port, cell) {
  if (cell.reconnect) return loadNewConnections(port, cell);
  const opts = {
    url: `https://127.0.0.1:${port}${cell.path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: cell.body,
    connections: cell.connections,
    pipelining: 1,
    duration: cell.duration,
    timeout: 10,

    ...(cell.rate ? { overallRate: cell.rate } : {}),
  };
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

async function runCell(server, cell, id) {
  await load(server.port, { ...cell, duration: WARMUP });
  let rssMax = 0;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssBytes(server.pid) ?? 0)), 200);
  const window = cpuWindow(server.pid);
  const r = await load(server.port, { ...cell, duration: DURATION });
  const cpu = window.end();
  clearInterval(sampler);
  const requests = r.requests.total;
  const failed = r.errors + r.timeouts + r.non2xx;
  const result = {
    id,
    group: cell.group,
    server: server.name,
    path: cell.path,
    workload: cell.workload,
    bodyBytes: Buffer.byteLength(cell.body),
    connections: cell.connections,
    newConnectionPerRequest: Boolean(cell.reconnect),
    fixedRate: cell.rate ?? null,
    seconds: round(cpu.seconds, 2),
    requests,
    reqPerSec: round(requests / cpu.seconds, 0),
    latencyMs: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
    serverCpuUsPerReq: requests > 0 ? round((cpu.serverCpuSeconds * 1e6) / requests, 1) : null,
    serverCpuPct: round((100 * cpu.serverCpuSeconds) / cpu.seconds),
    loadGeneratorCpuPct: round((100 * cpu.loadGeneratorCpuSeconds) / cpu.seconds),
    rssMaxMB: round(rssMax / 2 ** 20),
    rssAfterMB: round((rssBytes(server.pid) ?? 0) / 2 ** 20),
    failed: { errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx, total: failed },
    othersCpuPct: cpu.othersCpuPct,
    topOthers: cpu.topOthers,
    // More than 5 % of a core used by other processes while we measured: the figures are not clean.
    noisy: cpu.othersCpuPct > 5,
  };
  printCell(result);
  return result;
}

function printCell(c) {
  const lat = `${c.latencyMs.p50}/${c.latencyMs.p99}`;
  process.stdout.write(
    `${c.id.padEnd(34)} ${String(c.reqPerSec).padStart(7)} req/s  p50/p99 ${lat.padStart(9)} ms  ` +
      `${String(c.serverCpuUsPerReq).padStart(7)} µs/req  cpu ${String(c.serverCpuPct).padStart(5)}%  ` +
      `gen ${String(c.loadGeneratorCpuPct).padStart(5)}%  rss ${String(c.rssMaxMB).padStart(6)} MB  failed ${c.failed.total}` +
      `${c.noisy ? `  NOISY (others ${c.othersCpuPct}% of a core: ${c.topOthers.map((t) => t.comm).join(', ')})` : ''}\n`,
  );
}

/** Checks the gate answers the bench bodies as intended, and returns the mutated objects for /validate. */
async function checkGate(port, bodies) {
  const validateBodies = {};
  for (const [workload, body] of Object.entries(bodies)) {
    const review = JSON.parse(body);
    const m = await request(port, 'POST', '/mutate', body);
    const response = JSON.parse(m.text).response;
    if (m.status !== 200 || !response?.allowed || !response.patch) {
      throw new Error(`/mutate did not patch the ${workload} Pod: ${m.status} ${m.text.slice(0, 300)}`);
    }
    const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'));
    const mutated = jsonpatch.applyPatch(review.request.object, ops, true, false).newDocument;
    review.request.object = mutated;
    validateBodies[workload] = JSON.stringify(review);
    const v = await request(port, 'POST', '/validate', validateBodies[workload]);
    if (v.status !== 200 || JSON.parse(v.text).response?.allowed !== true) {
      throw new Error(`/validate denied the mutated ${workload} Pod: ${v.status} ${v.text.slice(0, 300)}`);
    }
    const images = ops.filter((o) => o.op === 'replace' && o.path.endsWith('/image')).length;
    const secrets = ops.some((o) => o.path.endsWith('/imagePullSecrets'));
    process.stdout.write(
      `  ${workload}: ${images} images rewritten, pull secret ${secrets ? 'added' : 'not added'}\n`,
    );
  }
  return validateBodies;
}

function cellsFor(server, bodies, validateBodies) {
  const c = (group, workload, connections, extra = {}) => ({
    group,
    workload,
    connections,
    path: '/mutate',
    body: bodies[workload],
    ...extra,
  });
  const both = (group, workload, connections, extra = {}) => [
    c(group, workload, connections, extra),
    c(group, workload, connections, { ...extra, path: '/validate', body: validateBodies[workload] }),
  ];
  switch (server) {
    case 'bare':
      return [
        c('ka16-8k', 'pod8k', 16),
        c('ka64-8k', 'pod8k', 64),
        c('ka16-50c', 'pod50c', 16),
        c('newtls-8k', 'pod8k', 16, { reconnect: true }),
      ];
    case 'bare-parse':
      return [
        c('ka16-8k', 'pod8k', 16),
        c('ka64-8k', 'pod8k', 64),
        c('ka16-50c', 'pod50c', 16),
        c('rate-8k', 'pod8k', 16, { rate: RATE }),
        c('rate-50c', 'pod50c', 16, { rate: RATE }),
      ];
    case 'express-echo':
      return [c('ka16-8k', 'pod8k', 16), c('ka64-8k', 'pod8k', 64), c('ka16-50c', 'pod50c', 16)];
    case 'gate':
    case 'gate-before':
      return [
        ...both('ka16-8k', 'pod8k', 16),
        ...both('ka64-8k', 'pod8k', 64),
        ...both('ka16-50c', 'pod50c', 16),
        c('newtls-8k', 'pod8k', 16, { reconnect: true }),
        c('rate-8k', 'pod8k', 16, { rate: RATE }),
        c('rate-50c', 'pod50c', 16, { rate: RATE }),
        // The 8 KB and 50-container cells once more, last: a peak RSS above the first pass's would be a leak (the
        // first pass's peak already holds the heap grown for the 138 KB bodies, so growth for size is not counted).
        c('ka16-8k-again', 'pod8k', 16),
        c('ka16-50c-again', 'pod50c', 16),
      ];
    case 'gate-10k':
      return both('ka16-8k', 'pod8k', 16);
    case 'gate-mirror-off':
    case 'gate-mirror':
      return [
        ...both('ka16-8k', 'pod8k', 16),
        ...both('ka16-50c37', 'pod50c37', 16),
        ...both('rate-50c37', 'pod50c37', 16, { rate: RATE }),
      ];
    case 'gate-mirror-cold':
      return both('rate-50c37-cold', 'pod50c37', 4, { rate: COLD_RATE });
    default:
      throw new Error(server);
  }
}

/** The median, rounded like the single-round figures (null when no round had a number). */
const roundedMedian = (xs, digits = 1) => {
  const m = median(xs);
  return m === null ? null : round(m, digits);
};

const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** One row per cell id: medians over the rounds, worst case for failures and memory, every round kept. */
function aggregate(runs) {
  const ids = [...new Set(runs.map((r) => r.id))];
  return ids.map((id) => {
    const rs = runs.filter((r) => r.id === id);
    if (rs.length === 1) return rs[0];
    const last = rs[rs.length - 1];
    return {
      ...last,
      requests: rs.reduce((n, r) => n + r.requests, 0),
      reqPerSec: roundedMedian(
        rs.map((r) => r.reqPerSec),
        0,
      ),
      latencyMs: {
        p50: roundedMedian(rs.map((r) => r.latencyMs.p50)),
        p99: roundedMedian(rs.map((r) => r.latencyMs.p99)),
        max: Math.max(...rs.map((r) => r.latencyMs.max)),
      },
      serverCpuUsPerReq: roundedMedian(rs.map((r) => r.serverCpuUsPerReq)),
      serverCpuPct: roundedMedian(rs.map((r) => r.serverCpuPct)),
      loadGeneratorCpuPct: roundedMedian(rs.map((r) => r.loadGeneratorCpuPct)),
      rssMaxMB: Math.max(...rs.map((r) => r.rssMaxMB)),
      failed: {
        errors: rs.reduce((n, r) => n + r.failed.errors, 0),
        timeouts: rs.reduce((n, r) => n + r.failed.timeouts, 0),
        non2xx: rs.reduce((n, r) => n + r.failed.non2xx, 0),
        total: rs.reduce((n, r) => n + r.failed.total, 0),
      },
      othersCpuPct: roundedMedian(rs.map((r) => r.othersCpuPct)),
      noisy: rs.some((r) => r.noisy),
      rounds: rs.map(({ reqPerSec, serverCpuUsPerReq, latencyMs, othersCpuPct }) => ({
        reqPerSec,
        serverCpuUsPerReq,
        latencyMs,
        othersCpuPct,
      })),
    };
  });
}

function targets(cells, servers) {
  const get = (id) => cells.find((c) => c.id === id);
  const out = [];
  const ratio = (name, a, b, metric, min, max) => {
    const x = get(a);
    const y = get(b);
    if (!x || !y) return;
    const value = round(x[metric] / y[metric], 2);
    const pass = (min === undefined || value >= min) && (max === undefined || value <= max);
    const want = min !== undefined ? `>= ${min}` : `<= ${max}`;
    out.push({ target: name, value, want, pass, of: `${a} / ${b} (${metric})` });
  };
  for (const path of ['mutate', 'validate']) {
    for (const g of ['ka16-8k', 'ka64-8k', 'ka16-50c']) {
      ratio(`/${path} vs bare-parse floor, ${g}`, `${g}/gate-${path}`, `${g}/bare-parse`, 'reqPerSec', 0.6);
      ratio(`/${path} vs express echo, ${g}`, `${g}/gate-${path}`, `${g}/express-echo`, 'reqPerSec', 1.5);
    }
    for (const g of ['ka16-8k', 'ka16-50c']) {
      ratio(
        `/${path} CPU per request vs bare https, ${g}`,
        `${g}/gate-${path}`,
        `${g}/bare`,
        'serverCpuUsPerReq',
        undefined,
        5,
      );
    }
    ratio(
      `10,000-rule policy vs small policy, /${path}`,
      `ka16-8k/gate-10k-${path}`,
      `ka16-8k/gate-${path}`,
      'reqPerSec',
      0.9,
    );
  }
  for (const path of ['mutate', 'validate']) {
    for (const g of ['ka16-8k', 'ka16-50c37']) {
      ratio(
        `mirror check on (cache warm) vs verify: off, CPU per review, ${g}, /${path}`,
        `${g}/gate-mirror-${path}`,
        `${g}/gate-mirror-off-${path}`,
        'serverCpuUsPerReq',
        undefined,
        1.1,
      );
    }
    const cold = get(`rate-50c37-cold/gate-mirror-cold-${path}`);
    if (cold)
      out.push({
        target: `cold review of the 37-image Pod within the 2 s budget (p99), /${path}`,
        value: cold.latencyMs.p99,
        want: '<= 2000 ms',
        pass: cold.latencyMs.p99 <= 2000,
      });
  }
  ratio(
    'new TLS connection per request vs bare https',
    'newtls-8k/gate-mutate',
    'newtls-8k/bare',
    'reqPerSec',
    0.7,
  );
  for (const s of servers.filter((s) => s.name.startsWith('gate'))) {
    out.push({
      target: `ready after start (${s.name})`,
      value: round(s.readyMs, 0),
      want: '<= 2000 ms',
      pass: s.readyMs <= 2000,
    });
  }
  const gateCells = cells.filter((c) => c.server.startsWith('gate'));
  if (gateCells.length > 0) {
    const rss = Math.max(...gateCells.map((c) => c.rssMaxMB));
    out.push({ target: 'RSS under load', value: rss, want: '<= 200 MB', pass: rss <= 200 });
  }
  for (const path of ['mutate', 'validate']) {
    const c = get(`ka16-50c/gate-${path}`);
    if (c)
      out.push({
        target: `p99 at 16 connections, 50-container Pod, /${path}`,
        value: c.latencyMs.p99,
        want: '<= 100 ms',
        pass: c.latencyMs.p99 <= 100,
      });
  }
  const gateFirst = cells.filter((c) => c.server === 'gate' && !AGAIN.has(c.group));
  const gateAgain = cells.filter((c) => c.server === 'gate' && AGAIN.has(c.group));
  if (gateFirst.length > 0 && gateAgain.length > 0) {
    const peak = (cs) => Math.max(...cs.map((c) => c.rssMaxMB));
    const value = round(peak(gateAgain) / peak(gateFirst), 2);
    out.push({
      target: 'memory flat: peak RSS repeating the 8 KB and 50-container cells / peak RSS before',
      value,
      want: '<= 1.1',
      pass: value <= 1.1,
    });
  }
  const failed = cells.reduce((n, c) => n + c.failed.total, 0);
  out.push({ target: 'no request failed', value: failed, want: '0', pass: failed === 0 });
  return out;
}

async function main() {
  preflight();
  const work = mkdtempSync(join(os.tmpdir(), 'registry-gate-bench-'));
  const resultsDir = join(root, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const cleanups = [() => rmSync(work, { recursive: true, force: true })];
  const servers = [];
  const cells = [];
  const only = args.only ? new RegExp(args.only) : null;
  try {
    const { ensureDevelopmentCertificates } = await import(join(root, 'dist/certs/files.js'));
    const certDir = join(work, 'certs');
    await ensureDevelopmentCertificates(certDir); // ECDSA P-256, shared by every server
    const big = largePolicy();
    writeFileSync(join(work, 'small.yaml'), JSON.stringify(SMALL_POLICY));
    writeFileSync(join(work, 'large.yaml'), JSON.stringify(big));
    const bodies = { pod8k: JSON.stringify(smallPodReview()), pod50c: JSON.stringify(largePodReview()) };
    process.stdout.write(
      `registry-gate benchmark: ${DURATION} s per cell after ${WARMUP} s warm-up; servers on CPU ${SERVER_CPU}, ` +
        `load generator on CPU ${LOAD_CPU}; bodies ${bodies.pod8k.length} B and ${bodies.pod50c.length} B; ` +
        `policies of ${ruleCount(SMALL_POLICY)} and ${ruleCount(big)} rules\n`,
    );
    const baseline = (kind) => (port) => [
      join(root, 'bench/baseline-server.mjs'),
      kind,
      String(port),
      certDir,
    ];
    const gate =
      (policy, dist = join(root, 'dist')) =>
      (port) => [
        ...(args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${join(resultsDir, 'profiles')}`] : []),
        join(dist, 'main.js'),
        'serve',
        '--policy',
        join(work, policy),
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--cert-dir',
        certDir,
      ];
    const mirror = args['no-mirror']
      ? { skip: '--no-mirror' }
      : await startMirror({ root, work, port: await freePort(), cpu: LOAD_CPU });
    if (mirror.skip) process.stdout.write(`mirror-check cells left out: ${mirror.skip}\n`);
    else {
      cleanups.push(() => mirror.stop());
      process.stdout.write(
        `mirror: distribution registry at ${mirror.host} (CPU ${LOAD_CPU}), ${mirror.images} images\n`,
      );
    }
    const mirrorFlags = (extra = []) =>
      mirror.skip
        ? []
        : ['--pull-secrets-dir', mirror.secretsDir, '--mirror-ca-file', mirror.caFile, ...extra];
    const withFlags = (argv, flags) => (port) => [...argv(port), ...flags];
    const plan = [
      ['bare', baseline('bare')],
      ['bare-parse', baseline('bare-parse')],
      ['express-echo', baseline('express-echo')],
      ...(args.compare ? [['gate-before', gate('small.yaml', args.compare)]] : []),
      ['gate', gate('small.yaml')],
      ['gate-10k', gate('large.yaml')],
      ...(mirror.skip
        ? []
        : [
            ['gate-mirror-off', gate('mirror-off.yaml')],
            ['gate-mirror', withFlags(gate('mirror-on.yaml'), mirrorFlags())],
            [
              'gate-mirror-cold',
              withFlags(gate('mirror-on.yaml'), mirrorFlags(['--mirror-cache-size', '0'])),
            ],
          ]),
    ];
    // Every server up at once (idle ones cost nothing), so comparable cells run back to back.
    for (const [name, argv] of plan) {
      const server = await startServer(name, argv, work);
      servers.push(server);
      cleanups.push(() => server.stop());
      process.stdout.write(`${name}: ready in ${round(server.readyMs, 0)} ms (pid ${server.pid})\n`);
    }
    let validateBodies = bodies;
    const bodiesOf = new Map();
    for (const server of servers.filter((s) => s.name.startsWith('gate'))) {
      process.stdout.write(`${server.name}:\n`);
      const mine = server.name.startsWith('gate-mirror') ? mirror.bodies : bodies;
      const validated = await checkGate(server.port, mine);
      if (mine === bodies) validateBodies = validated;
      bodiesOf.set(server, { bodies: mine, validateBodies: validated });
    }
    const schedule = [];
    for (const server of servers) {
      const own = bodiesOf.get(server) ?? { bodies, validateBodies };
      for (const cell of cellsFor(server.name, own.bodies, own.validateBodies)) {
        // Baselines answer every path alike; the gate's cells are named after the webhook.
        const id = server.name.startsWith('gate')
          ? `${cell.group}/${server.name}-${cell.path.slice(1)}`
          : `${cell.group}/${server.name}`;
        if (!only || only.test(id)) schedule.push({ server, cell, id });
      }
    }
    // Group by workload (the sort is stable: servers keep their order), the memory check last.
    schedule.sort((a, b) => GROUPS.indexOf(a.cell.group) - GROUPS.indexOf(b.cell.group));
    const again = schedule.filter((x) => AGAIN.has(x.cell.group));
    const runs = [];
    for (let r = 1; r <= ROUNDS; r++) {
      if (ROUNDS > 1) process.stdout.write(`round ${r} of ${ROUNDS}\n`);
      for (const x of schedule) {
        if (!AGAIN.has(x.cell.group)) runs.push({ ...(await runCell(x.server, x.cell, x.id)), round: r });
      }
    }
    for (const x of again) runs.push({ ...(await runCell(x.server, x.cell, x.id)), round: ROUNDS });
    cells.push(...aggregate(runs));
    if (ROUNDS > 1) {
      process.stdout.write(`\nmedians over ${ROUNDS} rounds\n`);
      for (const c of cells) printCell(c);
    }
  } finally {
    for (const c of cleanups.reverse()) await c();
  }

  const checks = targets(cells, servers);
  process.stdout.write('\ntargets (ratios within this run)\n');
  for (const t of checks) {
    process.stdout.write(`  ${t.pass ? 'PASS' : 'FAIL'}  ${t.target}: ${t.value} (want ${t.want})\n`);
  }
  const noisy = cells.filter((c) => c.noisy);
  if (noisy.length > 0) {
    process.stdout.write(
      `\nNOISY RUN: other processes used more than 5 % of a core during ${noisy.length} of ${cells.length} cells; ` +
        'repeat on a quiet machine before trusting the figures.\n',
    );
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = args.out ?? join(resultsDir, `bench-${stamp}.json`);
  const record = {
    at: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    durationSeconds: DURATION,
    warmupSeconds: WARMUP,
    rounds: ROUNDS,
    noisy: noisy.length > 0,
    servers: servers.map((s) => ({ name: s.name, readyMs: round(s.readyMs, 0) })),
    cells,
    targets: checks,
  };
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  process.stdout.write(`\nwrote ${file}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
