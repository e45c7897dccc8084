/**
 * Registry hosts as the gate compares them. DNS names are case-insensitive, and Docker Hub answers under several
 * names: a gate that compared bytes would let `QUAY.IO/…` or `registry-1.docker.io/…` past a rule written for
 * `quay.io` or `docker.io`, so both sides of every comparison go through {@link canonicalHost}.
 */
const dockerHubAliases: ReadonlySet<string> = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

export function canonicalHost(host: string): string {
  const lower = host.toLowerCase();
  return dockerHubAliases.has(lower) ? 'docker.io' : lower;
}

export interface HostPort {
  readonly host: string;
  /** The port as written, or null when none is given. */
  readonly port: string | null;
}

/** Splits `host[:port]`; an IPv6 host keeps its brackets (`[::1]:5000` → `[::1]`, `5000`). */
export function splitHostPort(domain: string): HostPort {
  const colon = domain.lastIndexOf(':');
  if (colon === -1 || colon < domain.lastIndexOf(']')) return { host: domain, port: null };
  return { host: domain.slice(0, colon), port: domain.slice(colon + 1) };
}
