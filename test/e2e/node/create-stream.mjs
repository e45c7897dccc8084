// A bounded stream of Pod creates through the real apiserver (and so through every admission webhook), run inside
// the node cluster's network namespace by the availability tests while they restart, delete or re-certify the gate.
//
//   node create-stream.mjs --server URL --ca F --cert F --key F --namespace NS --stop-file F
//                          [--interval-ms 100] [--max-count 3000] [--max-seconds 300]
//
// The Pods name an image the gate rewrites and a nodeSelector no node has: they are admitted and stored like any
// other, but never scheduled, so the stream loads admission and not the kubelet. It stops when the stop file appears
// (or at --max-count or --max-seconds, whichever comes first) and prints one JSON line: how many creates, how many
// failed and why (the first few), and latency percentiles.
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { parseArgs } from 'node:util';

const { values: o } = parseArgs({
  options: {
    server: { type: 'string' },
    ca: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    namespace: { type: 'string' },
    'stop-file': { type: 'string' },
    image: { type: 'string', default: 'busybox:1.36' },
    'interval-ms': { type: 'string', default: '100' },
    'max-count': { type: 'string', default: '3000' },
    'max-seconds': { type: 'string', default: '300' },
  },
});
for (const required of ['server', 'ca', 'cert', 'key', 'namespace', 'stop-file']) {
  if (!o[required]) {
    console.error(`create-stream: --${required} is required`);
    process.exit(2);
  }
}
const agent = new Agent({
  keepAlive: true,
  ca: readFileSync(o.ca),
  cert: readFileSync(o.cert),
  key: readFileSync(o.key),
});
const pod = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'stream-', labels: { 'e2e/stream': 'true' } },
  spec: {
    nodeSelector: { 'e2e/never-scheduled': 'true' },
    automountServiceAccountToken: false,
    containers: [{ name: 'main', image: o.image, command: ['sleep', '3600'] }],
  },
});

/** One create: resolves to [milliseconds, null] or [milliseconds, why it failed]. */
function create() {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      `${o.server}/api/v1/namespaces/${o.namespace}/pods`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' }, timeout: 30_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d) => (body += d));
        res.on('end', () => {
          const ms = performance.now() - started;
          if (res.statusCode === 201) resolve([ms, null]);
          else {
            let message = body;
            try {
              message = JSON.parse(body).message ?? body;
            } catch {
              // not JSON: keep the text
            }
            resolve([ms, `${res.statusCode}: ${String(message).slice(0, 300)}`]);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer in 30 s')));
    req.on('error', (err) => resolve([performance.now() - started, `request failed: ${err.message}`]));
    req.end(pod);
  });
}

const intervalMs = Number(o['interval-ms']);
const maxCount = Number(o['max-count']);
const deadline = Date.now() + Number(o['max-seconds']) * 1000;
const latencies = [];
const failures = [];
while (latencies.length < maxCount && Date.now() < deadline && !existsSync(o['stop-file'])) {
  const next = Date.now() + intervalMs;
  const [ms, failure] = await create();
  latencies.push(ms);
  if (failure) failures.push(failure);
  const wait = next - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}
agent.destroy();
const sorted = [...latencies].sort((a, b) => a - b);
const pct = (p) =>
  sorted.length
    ? Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)])
    : 0;
console.log(
  JSON.stringify({
    count: latencies.length,
    failed: failures.length,
    firstFailures: failures.slice(0, 5),
    p50Ms: pct(50),
    p99Ms: pct(99),
    maxMs: Math.round(sorted.at(-1) ?? 0),
  }),
);
