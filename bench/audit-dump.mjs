#!/usr/bin/env node
// Measures `registry-gate audit` over a generated `kubectl get -A -o json` dump of N objects (default 10,000):
// Deployments, their ReplicaSets and Pods (with ownerReferences and uids, as the API returns them), CronJobs,
// bare Pods, and a few Services that are ignored. Run after `npm run build`:
//   node bench/audit-dump.mjs [objects]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const total = Number(process.argv[2] ?? 10_000);
const root = new URL('..', import.meta.url).pathname;
const images = [
  'nginx:1.27',
  'registry.mycorp.com/dockerhub/library/nginx:1.27',
  'quay.io/acme/api:3',
  'ghcr.io/acme/worker:1',
  'registry.mycorp.com/tools/agent@sha256:' + 'a'.repeat(64),
];
const items = [];
let uid = 0;
const meta = (name, namespace, owner) => ({
  name,
  namespace,
  uid: `uid-${++uid}`,
  labels: { app: name },
  ...(owner
    ? {
        ownerReferences: [
          {
            apiVersion: owner.apiVersion,
            kind: owner.kind,
            name: owner.metadata.name,
            uid: owner.metadata.uid,
            controller: true,
          },
        ],
      }
    : {}),
});
const spec = (i) => ({
  initContainers: [{ name: 'init', image: images[(i + 2) % images.length] }],
  containers: [
    { name: 'app', image: images[i % images.length] },
    { name: 'sidecar', image: images[(i + 1) % images.length] },
  ],
});
for (let i = 0; items.length < total; i++) {
  const ns = `team-${i % 50}`;
  const kind = i % 10;
  if (kind < 6) {
    // A Deployment with its ReplicaSet and 4 Pods: 6 objects.
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(`app-${i}`, ns),
      spec: { template: { spec: spec(i) } },
    };
    const rs = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: meta(`app-${i}-7d9f`, ns, d),
      spec: { template: { spec: spec(i) } },
    };
    items.push(d, rs);
    for (let p = 0; p < 4; p++)
      items.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: meta(`app-${i}-7d9f-${p}`, ns, rs),
        spec: spec(i),
        status: { phase: 'Running' },
      });
  } else if (kind < 8) {
    const cj = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: meta(`cron-${i}`, ns),
      spec: { jobTemplate: { spec: { template: { spec: spec(i) } } } },
    };
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: meta(`cron-${i}-1`, ns, cj),
      spec: { template: { spec: spec(i) } },
    };
    items.push(cj, job, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: meta(`cron-${i}-1-x`, ns, job),
      spec: spec(i),
    });
  } else if (kind === 8) {
    items.push({ apiVersion: 'v1', kind: 'Pod', metadata: meta(`solo-${i}`, ns), spec: spec(i) });
  } else {
    items.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(`svc-${i}`, ns),
      spec: { ports: [{ port: 80 }] },
    });
  }
}
items.length = total;

const dir = mkdtempSync(join(tmpdir(), 'registry-gate-bench-'));
const dump = join(dir, 'dump.json');
writeFileSync(
  dump,
  JSON.stringify({ apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } }, null, 4),
);
if (process.env.KEEP) console.log(dump);
const mb = (statSync(dump).size / 1e6).toFixed(1);

function time(args) {
  const runs = [];
  let last;
  for (let i = 0; i < 3; i++) {
    const start = process.hrtime.bigint();
    last = spawnSync(
      process.execPath,
      [
        join(root, 'dist/main.js'),
        'audit',
        '--policy',
        join(root, 'examples/mycorp-policy.yaml'),
        ...args,
        dump,
      ],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 30,
      },
    );
    runs.push(Number(process.hrtime.bigint() - start) / 1e9);
    if (last.status !== 1) throw new Error(`audit exited ${last.status}: ${last.stderr}`);
  }
  return { best: Math.min(...runs), median: runs.sort()[1], out: last.stdout };
}
const text = time([]);
const json = time(['-o', 'json']);
const summary = text.out.trim().split('\n').at(-1);
console.log(`${total} objects (${mb} MB of kubectl get -A -o json), node ${process.version}`);
console.log(
  `text: best ${text.best.toFixed(2)} s, median ${text.median.toFixed(2)} s (whole process, 3 runs)`,
);
console.log(`json: best ${json.best.toFixed(2)} s, median ${json.median.toFixed(2)} s`);
console.log(summary);
if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
