// `npm run soak`: steady admission load on the built server while its policy is replaced (valid, then invalid),
// its certificate files are rotated and SIGTERM arrives. Loopback only; every process it starts is stopped.
// Exits 1 when a requirement fails (see `checks` below), 2 on a usage error.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeCertificates, writeServingPair } from './certificates.js';
import { GateProcess } from './gate-process.js';
import { deploymentNodeOptions, hostilePhase, type HostileReport } from './hostile-phase.js';
import { Load } from './load.js';
import { median, mib, ms, window } from './stats.js';

// Compiled to dist-scripts/scripts/soak/main.js (with the src/ modules it shares under dist-scripts/src/): the
// checkout is three levels up.
const root = fileURLToPath(new URL('../../..', import.meta.url));
const RELOAD_MS = 500;
const SHUTDOWN_DELAY_MS = 3000;
/** Short, so that bodies held by the hostile phase are cut off within the soak (the default is 10 s). */
const BODY_TIMEOUT_MS = 4000;

const policy = (allowed: string, extra = ''): string => `apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
metadata: {name: soak}
spec:
  mirrors:
    - {source: docker.elastic.co, mirror: mirror.corp.example/elastic}
  registrySources: {allowedRegistries: [${allowed}]}
  pullSecrets:
    - {registry: mirror.corp.example, secretName: corp-pull}
${extra}`;
const POLICY_V1 = policy('mirror.corp.example');
const POLICY_V2 = policy('mirror.corp.example, quay.io/org');
const POLICY_INVALID = policy('mirror.corp.example, quay.io/org', '  mode: strict\n');

interface Event {
  readonly name: string;
  readonly at: number;
  /** When the load stopped mattering for this event (the next window's start, or the load's stop). */
  until: number;
  note: string;
}

interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

function usage(message: string): never {
  process.stderr.write(
    `soak: ${message}\nusage: npm run soak -- [--duration SECONDS (>= 40, default 120)] [--rate PER_SECOND (default 100)] [--concurrency N (default 8)] [--out FILE.json]\n`,
  );
  process.exit(2);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '120' },
      rate: { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '8' },
      out: { type: 'string' },
    },
  });
  const durationS = Number(values.duration);
  const rate = Number(values.rate);
  const concurrency = Number(values.concurrency);
  if (!Number.isFinite(durationS) || durationS < 40 || durationS > 900)
    usage('--duration must be 40 to 900 seconds');
  if (!(rate > 0 && rate <= 2000)) usage('--rate must be above 0 and at most 2000');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    usage('--concurrency must be 1 to 64');
  const durationMs = durationS * 1000;

  const dir = await mkdtemp(join(tmpdir(), 'registry-gate-soak-'));
  const policyFile = join(dir, 'policy.yaml');
  const certDir = join(dir, 'certs');
  await writeFile(policyFile, POLICY_V1);
  const certs = await makeCertificates();
  await writeServingPair(certDir, certs.ca, certs.first);
  const ca = [certs.ca];
  const nextFingerprint = new X509Certificate(certs.renewed.cert).fingerprint256;
  const fixture = JSON.parse(
    await readFile(join(root, 'test/fixtures/admission/pod-create.json'), 'utf8'),
  ) as Record<string, unknown>;

  // The server runs with the Deployment's V8 flags, so its memory is what a replica's would be.
  const nodeOptions = await deploymentNodeOptions(join(root, 'manifests/base/deployment.yaml'));
  const gate = new GateProcess({
    mainJs: join(root, 'dist/main.js'),
    policyFile,
    certDir,
    reloadIntervalMs: RELOAD_MS,
    shutdownDelayMs: SHUTDOWN_DELAY_MS,
    extraArgs: ['--body-timeout', String(BODY_TIMEOUT_MS)],
    nodeOptions,
  });
  const stopSelf = (): void => {
    gate.signal('SIGKILL');
    process.exit(130);
  };
  process.once('SIGINT', stopSelf);
  const rss: { at: number; bytes: number }[] = [];
  const events: Event[] = [];
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail = ''): void => void checks.push({ name, ok, detail });
  let load: Load | null = null;
  let exitCode: number | null = null;
  let exitMs: number | null = null;
  let refusedAfterExit = false;
  let hostile: HostileReport | null = null;
  const sampler = setInterval(() => {
    void gate.rss().then((bytes) => bytes !== null && rss.push({ at: performance.now(), bytes }));
  }, 1000);
  let t0 = 0;

  try {
    const port = await gate.port();
    load = new Load({ port, ca, ratePerSecond: rate, concurrency, freshShare: 0.1, fixture });
    t0 = performance.now();
    load.start();
    const at = (share: number): Promise<void> => sleep(t0 + share * durationMs - performance.now());
    const begin = (name: string): Event => {
      const event = { name, at: performance.now(), until: 0, note: '' };
      events.push(event);
      return event;
    };

    await at(0.2);
    const valid = begin('policy replaced (valid)');
    await writeFile(`${policyFile}.next`, POLICY_V2);
    await rename(`${policyFile}.next`, policyFile); // atomic, as a ConfigMap volume update
    const applied = await gate
      .waitForLog((l) => l['msg'] === 'policy applied' && l['generation'] === 2, 4 * RELOAD_MS + 5000)
      .then(
        () => performance.now() - valid.at,
        () => null,
      );
    valid.note =
      applied === null ? 'generation 2 never applied' : `generation 2 applied after ${ms(applied)} ms`;
    check('valid policy applied', applied !== null, valid.note);

    await at(0.35);
    const invalid = begin('policy replaced (invalid)');
    await writeFile(policyFile, POLICY_INVALID); // in place, not atomic: a half-written file must not matter either
    const rejected = await gate
      .waitForLog(
        (l) => typeof l['msg'] === 'string' && l['msg'].startsWith('policy rejected'),
        4 * RELOAD_MS + 5000,
      )
      .then(
        (l) => l,
        () => null,
      );
    invalid.note =
      rejected === null
        ? 'no rejection logged'
        : `rejected; generation ${String(rejected['generationInForce'])} stays`;
    check('invalid policy rejected, generation 2 stays', rejected?.['generationInForce'] === 2, invalid.note);

    await at(0.5);
    const rotation = begin('certificate rotated');
    // Two files written one after the other: for a moment they do not match, and the old pair must keep serving.
    await writeFile(join(certDir, 'tls.crt'), certs.renewed.cert);
    await writeFile(join(certDir, 'tls.key'), certs.renewed.key);
    const served = await waitFor(
      async () => (await peerFingerprint(port, ca)) === nextFingerprint,
      4 * RELOAD_MS + 5000,
    );
    rotation.note =
      served === null
        ? 'new certificate never served'
        : `new connections get the new certificate after ${ms(served)} ms`;
    check('rotated certificate served to new connections', served !== null, rotation.note);

    await at(0.6);
    const attack = begin('hostile bodies');
    hostile = await hostilePhase(gate, { port, ca }, BODY_TIMEOUT_MS);
    attack.note = hostile.note;
    for (const c of hostile.checks) check(c.name, c.ok, c.detail);

    await at(0.85);
    const term = begin('SIGTERM');
    gate.signal('SIGTERM');
    // The apiserver stops sending once the endpoint is gone, which the shutdown delay covers: keep sending
    // through most of the delay, then stop, and every request sent must still be answered.
    await sleep(SHUTDOWN_DELAY_MS * 0.7);
    await load.stop();
    term.until = performance.now();
    const exitStarted = term.at;
    exitCode = await Promise.race([gate.exited, sleep(SHUTDOWN_DELAY_MS + 30_000).then(() => -1)]);
    exitMs = performance.now() - exitStarted;
    term.note = `exit code ${String(exitCode)} after ${ms(exitMs)} ms (shutdown delay ${SHUTDOWN_DELAY_MS} ms)`;
    refusedAfterExit = (await peerFingerprint(port, ca).catch(() => 'refused')) === 'refused';
  } finally {
    clearInterval(sampler);
    if (load !== null) await load.stop();
    if (gate.running) {
      gate.signal('SIGKILL');
      await gate.exited;
    }
    process.off('SIGINT', stopSelf);
    await rm(dir, { recursive: true, force: true });
  }

  // Each event's window runs until the next event (or the load's stop).
  events.forEach((e, i) => {
    if (e.until === 0) e.until = events[i + 1]?.at ?? performance.now();
  });
  const samples = load?.samples ?? [];
  const answered = samples.filter((s) => s.outcome?.ok === true);
  const failed = samples.filter((s) => s.outcome?.ok === false);
  const unanswered = samples.filter((s) => s.outcome === null);
  const generations = new Map<number | 'unknown', number>();
  let wrongForGeneration = 0;
  for (const s of answered) {
    const g = gate.generationByUid.get(s.uid);
    generations.set(g ?? 'unknown', (generations.get(g ?? 'unknown') ?? 0) + 1);
    // generation 1 denies quay.io/org, generation 2 allows it: the answer itself says which policy answered.
    if (
      s.probe === 'quay' &&
      s.path === '/validate' &&
      s.outcome?.ok &&
      g !== undefined &&
      s.outcome.allowed !== (g === 2)
    ) {
      wrongForGeneration++;
    }
  }
  const uidMismatch = answered.filter((s) => s.outcome?.ok === true && !s.outcome.uidMatches).length;

  check(
    'no request failed until the drain completed',
    failed.length === 0,
    failed
      .slice(0, 3)
      .map((f) => f.outcome?.ok === false && f.outcome.error)
      .join('; '),
  );
  check('every request answered', unanswered.length === 0, `${unanswered.length} unanswered`);
  check('every answer carries its request uid', uidMismatch === 0, `${uidMismatch} mismatched`);
  check(
    'every answer logged with its policy generation',
    !generations.has('unknown'),
    `${generations.get('unknown') ?? 0} without`,
  );
  check(
    'only generations 1 and 2 answered',
    [...generations.keys()].every((g) => g === 1 || g === 2 || g === 'unknown'),
  );
  check(
    'each answer matches the generation that gave it',
    wrongForGeneration === 0,
    `${wrongForGeneration} wrong`,
  );
  check('SIGTERM: clean exit after the drain', exitCode === 0, `exit code ${String(exitCode)}`);
  check('after exit the port refuses connections', refusedAfterExit);

  // Memory: the median of the second tenth to the third of the soak (warmed up) against the tenth before the
  // hostile phase, whose large bodies grow the heap on purpose (its own checks bound that).
  const attackAt = events.find((e) => e.name === 'hostile bodies')?.at ?? performance.now();
  const span = attackAt - t0;
  const rssIn = (from: number, to: number): number | null =>
    median(rss.filter((r) => r.at >= t0 + from * span && r.at < t0 + to * span).map((r) => r.bytes));
  const rssEarly = rssIn(0.15, 0.5);
  const rssLate = rssIn(0.8, 1);
  const rssMax = rss.length > 0 ? Math.max(...rss.map((r) => r.bytes)) : null;
  const growth = rssEarly !== null && rssLate !== null ? rssLate - rssEarly : null;
  // Generous: V8 grows its heap in steps; a leak at this request count shows as hundreds of MiB.
  check(
    'memory (RSS) steady',
    growth !== null && growth < 64 * 1024 * 1024,
    `early ${mib(rssEarly)} MiB, late ${mib(rssLate)} MiB, max ${mib(rssMax)} MiB`,
  );

  const rows = events.map((e) => {
    const width = Math.min(10_000, durationMs * 0.1);
    const before = window(samples, e.at - width, e.at);
    const during = window(samples, e.at, Math.min(e.until, e.at + width));
    return { event: e.name, atS: (e.at - t0) / 1000, before, during, note: e.note };
  });
  const report = {
    when: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    durationS,
    rate,
    concurrency,
    requests: {
      sent: samples.length,
      answered: answered.length,
      failed: failed.length,
      unanswered: unanswered.length,
    },
    byGeneration: Object.fromEntries(generations),
    freshConnections: samples.filter((s) => s.fresh).length,
    overall: window(samples, 0, Infinity),
    events: rows,
    rss: { earlyMiB: mib(rssEarly), lateMiB: mib(rssLate), maxMiB: mib(rssMax) },
    hostile,
    nodeOptions,
    checks,
  };

  const out: string[] = [];
  out.push(
    `registry-gate soak: ${durationS} s, ${rate} req/s paced, concurrency ${concurrency}, 10% on fresh TLS connections; ${process.version}, ${cpus().length} CPUs`,
  );
  out.push(
    `requests: sent ${samples.length}, answered ${answered.length}, failed ${failed.length}, unanswered ${unanswered.length}`,
  );
  out.push(`answered by policy generation: ${[...generations].map(([g, n]) => `${g}: ${n}`).join(', ')}`);
  out.push(`latency over the whole soak: p50 ${ms(report.overall.p50)} ms, p99 ${ms(report.overall.p99)} ms`);
  out.push('');
  out.push('| event | at (s) | p99 before (ms) | p99 during (ms) | n before / during | what happened |');
  out.push('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    out.push(
      `| ${r.event} | ${r.atS.toFixed(1)} | ${ms(r.before.p99)} | ${ms(r.during.p99)} | ${r.before.n} / ${r.during.n} | ${r.note} |`,
    );
  }
  out.push('');
  out.push(
    `RSS: early ${report.rss.earlyMiB} MiB, late ${report.rss.lateMiB} MiB, max ${report.rss.maxMiB} MiB (NODE_OPTIONS ${nodeOptions})`,
  );
  if (hostile !== null) for (const line of hostile.lines) out.push(line);
  out.push('');
  for (const c of checks) out.push(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}${c.detail ? ` (${c.detail})` : ''}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (values.out !== undefined) await writeFile(values.out, `${JSON.stringify(report, null, 2)}\n`);
  return checks.every((c) => c.ok) ? 0 : 1;
}

function sleep(msToWait: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, msToWait)));
}

/** Polls until `condition` holds; resolves with the time it took, or null after `timeoutMs`. */
async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<number | null> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    if (await condition().catch(() => false)) return performance.now() - start;
    await sleep(100);
  }
  return null;
}

/** The SHA-256 fingerprint of the certificate a new TLS connection is served. */
function peerFingerprint(port: number, ca: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: [...ca], servername: 'localhost' }, () => {
      const fingerprint = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
      socket.destroy();
      resolve(fingerprint);
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('TLS handshake timed out')));
    socket.on('error', reject);
  });
}

process.exitCode = await main();
