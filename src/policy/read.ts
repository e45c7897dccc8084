import { FieldErrors, MapReader, didYouMean, isRecord } from './fields.js';
import {
  MODES,
  ON_ERROR,
  PIN_KINDS,
  VERIFY_LEVELS,
  POLICY_API_VERSION,
  POLICY_KIND,
  type MirrorRule,
  type Mode,
  type PullSecretRule,
  type RegistryPolicy,
} from './types.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Kubernetes object names: a DNS subdomain (RFC 1123) of at most 253 characters. */
export function isObjectName(name: string): boolean {
  return name.length <= 253 && DNS_SUBDOMAIN.test(name);
}

/** Namespace names: a DNS label (RFC 1123) of at most 63 characters. */
export function isNamespaceName(name: string): boolean {
  return name.length <= 63 && DNS_LABEL.test(name);
}

/**
 * Reads a `RegistryPolicy` document into the spec shape, applying defaults and reporting every shape error with
 * its field path. Meaning (entries, cross-field rules) is checked by compilePolicy.
 */
export function readPolicy(doc: unknown, errors: FieldErrors): RegistryPolicy | null {
  if (!isRecord(doc)) {
    errors.add('(document)', 'must be a RegistryPolicy map');
    return null;
  }
  const top = new MapReader(doc, '', errors);
  const apiVersion = top.string('apiVersion', '');
  const kind = top.string('kind', '');
  if (apiVersion !== POLICY_API_VERSION)
    errors.add('apiVersion', `must be ${POLICY_API_VERSION}, not "${apiVersion}"`);
  if (kind !== POLICY_KIND) errors.add('kind', `must be ${POLICY_KIND}, not "${kind}"`);
  const metadata = MapReader.of(top.raw('metadata'), 'metadata', errors);
  const name = metadata?.string('name', 'default') ?? 'default';
  metadata?.raw('namespace');
  metadata?.raw('labels');
  metadata?.raw('annotations');
  metadata?.rejectUnknown();
  const spec = MapReader.of(top.raw('spec'), 'spec', errors);
  const topLevel = ['apiVersion', 'kind', 'metadata', 'spec'];
  for (const key of Object.keys(doc)) {
    if (topLevel.includes(key)) continue;
    const meant = didYouMean(key, topLevel);
    errors.add(key, meant === null ? 'unknown field' : `unknown field (did you mean "${meant}"?)`);
  }
  if (spec === null) return null;

  const modeText = spec.string('mode', 'enforce');
  const mode: Mode = (MODES as readonly string[]).includes(modeText) ? (modeText as Mode) : 'enforce';
  if (mode !== modeText) errors.add('spec.mode', `must be one of ${MODES.join(', ')}, not "${modeText}"`);

  const shortNames = MapReader.of(spec.raw('shortNames'), 'spec.shortNames', errors);
  const aliases: Record<string, string> = {};
  const aliasReader = MapReader.of(shortNames?.raw('aliases'), 'spec.shortNames.aliases', errors);
  for (const key of aliasReader?.keys() ?? []) {
    const value = aliasReader?.string(key, '');
    if (value) aliases[key] = value;
  }
  const shortNameRegistry = shortNames?.string('registry', 'docker.io') ?? 'docker.io';
  shortNames?.rejectUnknown();

  const mirrors = spec.list('mirrors').flatMap((item, i): MirrorRule[] => {
    const m = MapReader.of(item, `spec.mirrors[${i}]`, errors);
    if (m === null) return [];
    const rule = {
      source: m.string('source', ''),
      mirror: m.string('mirror', ''),
      digestOnly: m.boolean('digestOnly', false),
      tagOnly: m.boolean('tagOnly', false),
      verify: m.oneOf('verify', VERIFY_LEVELS, 'off'),
      pin: m.oneOf('pin', PIN_KINDS, 'none'),
      onError: m.oneOf('onError', ON_ERROR, 'allow'),
    };
    if (!m.has('source')) errors.add(m.at('source'), 'is required');
    if (!m.has('mirror')) errors.add(m.at('mirror'), 'is required');
    m.rejectUnknown();
    return [rule];
  });

  const sources = MapReader.of(spec.raw('registrySources'), 'spec.registrySources', errors);
  const registrySources = {
    allowedRegistries: sources?.stringList('allowedRegistries') ?? null,
    blockedRegistries: sources?.stringList('blockedRegistries') ?? null,
    insecureRegistries: sources?.stringList('insecureRegistries') ?? [],
  };
  sources?.rejectUnknown();

  const pullSecrets = spec.list('pullSecrets').flatMap((item, i): PullSecretRule[] => {
    const p = MapReader.of(item, `spec.pullSecrets[${i}]`, errors);
    if (p === null) return [];
    const secretName = p.string('secretName', '');
    if (!p.has('registry')) errors.add(p.at('registry'), 'is required');
    if (!isObjectName(secretName))
      errors.add(p.at('secretName'), `"${secretName}" is not a valid Secret name`);
    let from: PullSecretRule['from'] = null;
    if (p.has('from')) {
      const f = MapReader.of(p.raw('from'), p.at('from'), errors);
      if (f) {
        from = { namespace: f.string('namespace', ''), name: f.string('name', '') };
        if (!f.has('namespace'))
          errors.add(f.at('namespace'), 'is required (the namespace of the source Secret)');
        else if (!isNamespaceName(from.namespace))
          errors.add(f.at('namespace'), `"${from.namespace}" is not a valid namespace`);
        if (!f.has('name')) errors.add(f.at('name'), 'is required (the name of the source Secret)');
        else if (!isObjectName(from.name))
          errors.add(f.at('name'), `"${from.name}" is not a valid Secret name`);
        f.rejectUnknown();
      }
    } else {
      p.raw('from');
    }
    const rule = { registry: p.string('registry', ''), secretName, from };
    p.rejectUnknown();
    return [rule];
  });

  const sourcesOf = MapReader.of(spec.raw('sources'), 'spec.sources', errors);
  const openshift = sourcesOf?.boolean('openshift', false) ?? false;
  sourcesOf?.rejectUnknown();

  const exemptions = MapReader.of(spec.raw('exemptions'), 'spec.exemptions', errors);
  const exemptNamespaces = exemptions?.stringList('namespaces') ?? [];
  exemptNamespaces.forEach((ns, i) => {
    if (!isNamespaceName(ns))
      errors.add(`spec.exemptions.namespaces[${i}]`, `"${ns}" is not a valid namespace name`);
  });
  const exemptImages = exemptions?.stringList('images') ?? [];
  exemptions?.rejectUnknown();

  const rewriteTemplates = spec.boolean('rewriteTemplates', false);
  spec.rejectUnknown();

  return {
    name,
    mode,
    shortNames: { registry: shortNameRegistry, aliases },
    mirrors,
    registrySources,
    pullSecrets,
    sources: { openshift },
    exemptions: { namespaces: exemptNamespaces, images: exemptImages },
    rewriteTemplates,
  };
}
