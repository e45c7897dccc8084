import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The server's Prometheus metrics, in a registry of its own (no global state: tests build as many as they like). */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'registry_gate_admission_requests_total',
    help: 'Admission requests answered, by webhook, kind, operation, decision and mode.',
    labelNames: ['webhook', 'kind', 'operation', 'decision', 'mode'] as const,
    registers: [this.registry],
  });
  readonly rewrites = new Counter({
    name: 'registry_gate_image_rewrites_total',
    help: 'Images rewritten to a mirror (or to their resolved short name), by mirror source and target.',
    labelNames: ['source', 'mirror'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'registry_gate_admission_duration_seconds',
    help: 'Time from request body received to response written, by webhook.',
    labelNames: ['webhook'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly badRequests = new Counter({
    name: 'registry_gate_bad_requests_total',
    help: 'Requests answered 4xx (malformed AdmissionReview, too large, wrong content type) or 5xx.',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly shed = new Counter({
    name: 'registry_gate_requests_shed_total',
    help: 'Admission requests refused at once (HTTP 429) to bound memory, by reason: inflight_bytes (the cap on the bytes of all bodies in flight).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** Set by the app: the bytes its bodies in flight hold now. */
  inflightBodyBytesSource: () => number = () => 0;
  readonly inflightBodyBytes: Gauge = new Gauge({
    name: 'registry_gate_inflight_body_bytes',
    help: 'Bytes of admission request bodies being received or decided now (capped by --max-inflight-bytes).',
    registers: [this.registry],
    // Read at scrape time: the hot path only moves a number.
    collect: (): void => this.inflightBodyBytes.set(this.inflightBodyBytesSource()),
  });
  readonly policyUnrestricted = new Gauge({
    name: 'registry_gate_policy_unrestricted',
    help: '1 when the policy in force restricts no registry (no allowedRegistries, no blockedRegistries entry): every image is allowed.',
    registers: [this.registry],
  });
  readonly policyReloads = new Counter({
    name: 'registry_gate_policy_reloads_total',
    help: 'Policy loads by result: applied, or rejected (the last good policy stays in force).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly policyGeneration = new Gauge({
    name: 'registry_gate_policy_generation',
    help: 'Generation of the policy in force (1 = the policy loaded at start).',
    registers: [this.registry],
  });
  readonly policyLastReloadFailed = new Gauge({
    name: 'registry_gate_policy_last_reload_failed',
    help: '1 when the newest policy text was rejected and an older one is in force.',
    registers: [this.registry],
  });
  readonly openshiftDroppedEntries = new Gauge({
    name: 'registry_gate_openshift_dropped_entries',
    help: 'Entries of the cluster image configuration (live mode) left out of the policy because admission cannot apply them (a wildcard mirror source); the rest applies.',
    registers: [this.registry],
  });
  readonly certificateExpiry = new Gauge({
    name: 'registry_gate_certificate_expiry_timestamp_seconds',
    help: 'Expiry (Unix time) of the serving certificate in use.',
    registers: [this.registry],
  });

  readonly pullSecretCopies = new Counter({
    name: 'registry_gate_pull_secret_copies_total',
    help: 'Pull-secret copy writes by result: created, updated, deleted, conflict (a Secret of that name not managed by the gate is in the way), failed.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly pullSecretCopiesMissing = new Gauge({
    name: 'registry_gate_pull_secret_copies_missing',
    help: 'Copies that should exist in a covered namespace and do not (yet).',
    registers: [this.registry],
  });
  readonly pullSecretSourceProblems = new Gauge({
    name: 'registry_gate_pull_secret_source_problems',
    help: 'Problems with each pull-secret source, by source and code (SOURCE_NOT_FOUND, SOURCE_WRONG_TYPE, SOURCE_MALFORMED, SOURCE_NO_CREDENTIALS); 0 when all is well.',
    labelNames: ['source', 'code'] as const,
    registers: [this.registry],
  });
  readonly pullSecretLeader = new Gauge({
    name: 'registry_gate_pull_secret_leader',
    help: '1 while this replica holds the pull-secret Lease and writes copies.',
    registers: [this.registry],
  });

  readonly mirrorLookups = new Counter({
    name: 'registry_gate_mirror_lookups_total',
    help: 'Questions asked of mirrors (HEAD manifest), by mirror (from the policy) and result: found, missing, error.',
    labelNames: ['mirror', 'result'] as const,
    registers: [this.registry],
  });
  readonly mirrorLookupDuration = new Histogram({
    name: 'registry_gate_mirror_lookup_duration_seconds',
    help: 'Time of one mirror look-up that was asked (not a cache hit), waiting for a connection slot included.',
    labelNames: ['mirror'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly mirrorCacheHits = new Counter({
    name: 'registry_gate_mirror_cache_hits_total',
    help: 'Mirror look-ups answered from the cache of answers, by mirror.',
    labelNames: ['mirror'] as const,
    registers: [this.registry],
  });
  readonly mirrorCredentials = new Gauge({
    name: 'registry_gate_mirror_credentials',
    help: "Credential health of each verified mirror's injected pull secret: 1 for its current state (ok, anonymous, missing, malformed, rejected, unreachable), 0 for the others.",
    labelNames: ['mirror', 'state'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics: boolean } = { processMetrics: true }) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
