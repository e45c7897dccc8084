/**
 * The policy `npm start` and `registry-gate serve` use when no `--policy` is given, so the webhook serves at once
 * on a fresh machine. It shows all three jobs against a placeholder mirror, `registry.internal` (`.internal` is
 * reserved for private use, so it can never be someone else's registry on the internet): the common public
 * registries are rewritten under it, only it (and `localhost`) is allowed, and its pull secret is injected.
 * Deploy with your own policy; docs/policy.md explains every field.
 */
export const DEFAULT_POLICY_YAML = `apiVersion: registry-gate.io/v1alpha1
kind: RegistryPolicy
metadata:
  name: built-in-default
spec:
  mode: enforce
  shortNames:
    registry: docker.io
  mirrors:
    - {source: docker.io, mirror: registry.internal/docker.io}
    - {source: quay.io, mirror: registry.internal/quay.io}
    - {source: ghcr.io, mirror: registry.internal/ghcr.io}
    - {source: gcr.io, mirror: registry.internal/gcr.io}
    - {source: registry.k8s.io, mirror: registry.internal/registry.k8s.io}
    - {source: registry.access.redhat.com, mirror: registry.internal/registry.access.redhat.com}
    - {source: registry.redhat.io, mirror: registry.internal/registry.redhat.io}
  registrySources:
    allowedRegistries: [registry.internal, localhost]
  pullSecrets:
    - {registry: registry.internal, secretName: registry-internal-pull}
`;
