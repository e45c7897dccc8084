import { isDomain } from '../reference/grammar.js';
import {
  namesRegistry,
  parseNormalizedReference,
  parseReference,
  type ImageReference,
} from '../reference/index.js';
import { findBlock } from './block-match.js';
import type { CompiledMirror, CompiledPolicy, CompiledPullSecret } from './compiled.js';
import { parseRegistryEntry, type RegistryEntry } from './entry.js';
import type { FieldErrors } from './fields.js';
import { entryKey } from './image-key.js';
import { RuleIndex } from './rule-index.js';
import type { RegistryPolicy } from './types.js';

/**
 * Checks what each entry means and the rules between fields, then indexes the entries. Every problem is added
 * to `errors` with its field path; the result is only usable when no error was added.
 */
export function compilePolicy(spec: RegistryPolicy, errors: FieldErrors): CompiledPolicy {
  const entries = (list: readonly string[], path: string, allowTagAndDigest: boolean): RuleIndex<string> => {
    const index = new RuleIndex<string>();
    list.forEach((text, i) => {
      const parsed = parseRegistryEntry(text, { allowTagAndDigest });
      if (parsed.ok) index.add(parsed.entry, text);
      else errors.add(`${path}[${i}]`, parsed.reason);
    });
    return index;
  };

  const { allowedRegistries, blockedRegistries, insecureRegistries } = spec.registrySources;
  if (allowedRegistries !== null && blockedRegistries !== null) {
    errors.add(
      'spec.registrySources',
      'set allowedRegistries or blockedRegistries, not both (as OpenShift: one list decides)',
    );
  }
  const allowed =
    allowedRegistries === null
      ? null
      : entries(allowedRegistries, 'spec.registrySources.allowedRegistries', true);
  const blocked =
    blockedRegistries === null
      ? null
      : entries(blockedRegistries, 'spec.registrySources.blockedRegistries', true);
  const insecure = entries(insecureRegistries, 'spec.registrySources.insecureRegistries', true);
  const exemptImages = entries(spec.exemptions.images, 'spec.exemptions.images', true);

  if (!isDomain(spec.shortNames.registry)) {
    errors.add(
      'spec.shortNames.registry',
      `"${spec.shortNames.registry}" is not a registry host or host:port`,
    );
  }
  const aliases = compileAliases(spec, errors);
  const { mirrors, mirrorTargets } = compileMirrors(spec, errors);

  const pullSecrets = new RuleIndex<CompiledPullSecret>();
  spec.pullSecrets.forEach((rule, i) => {
    if (rule.registry === '') return; // reported as required by readPolicy
    const parsed = parseRegistryEntry(rule.registry, { allowTagAndDigest: false });
    if (parsed.ok) pullSecrets.add(parsed.entry, { order: i, secretName: rule.secretName });
    else errors.add(`spec.pullSecrets[${i}].registry`, parsed.reason);
  });

  checkPullSecretSources(spec, errors);
  checkMirrorTargetsAreAllowed(mirrorTargets, allowed, blocked, errors);
  checkRewriteCycles(mirrors, errors);

  return {
    spec,
    aliases,
    shortNameRegistry: spec.shortNames.registry,
    allowed,
    blocked,
    insecure,
    mirrors,
    mirrorTargets,
    pullSecrets,
    exemptImages,
    exemptNamespaces: new Set(spec.exemptions.namespaces),
  };
}

function compileAliases(spec: RegistryPolicy, errors: FieldErrors): Map<string, ImageReference> {
  const aliases = new Map<string, ImageReference>();
  for (const [shortName, target] of Object.entries(spec.shortNames.aliases)) {
    const path = `spec.shortNames.aliases["${shortName}"]`;
    const key = parseReference(shortName);
    if (!key.ok || key.ref.tag !== null || key.ref.digest !== null || namesRegistry(shortName)) {
      errors.add(path, `"${shortName}" is not a short name (a repository without registry, tag or digest)`);
      continue;
    }
    const value = parseNormalizedReference(target);
    if (!value.ok) {
      errors.add(path, `"${target}": ${value.error.message}`);
    } else if (!namesRegistry(target) || value.ref.tag !== null || value.ref.digest !== null) {
      errors.add(
        path,
        `"${target}" must be a fully-qualified repository (registry/path), without tag or digest`,
      );
    } else {
      aliases.set(shortName, value.ref);
    }
  }
  return aliases;
}

function sourceKey(entry: RegistryEntry): string {
  return `${entry.host}${entry.port === null ? '' : `:${entry.port}`}/${entry.path.join('/')}`;
}

function compileMirrors(
  spec: RegistryPolicy,
  errors: FieldErrors,
): { mirrors: RuleIndex<CompiledMirror>; mirrorTargets: RuleIndex<CompiledMirror> } {
  const mirrors = new RuleIndex<CompiledMirror>();
  const mirrorTargets = new RuleIndex<CompiledMirror>();
  const kindsBySource = new Map<
    string,
    { digestOnly: number; tagOnly: number; all: number; first: number }
  >();
  spec.mirrors.forEach((rule, i) => {
    const path = `spec.mirrors[${i}]`;
    if (rule.source === '' || rule.mirror === '') return; // reported as required by readPolicy
    if (rule.digestOnly && rule.tagOnly) errors.add(path, 'digestOnly and tagOnly exclude each other');
    if (rule.pin === 'digest' && rule.verify === 'off') {
      errors.add(
        `${path}.pin`,
        'pin: digest asks the mirror, so it needs verify: warn or enforce (which also says what a missing image does)',
      );
    }
    const source = parseRegistryEntry(rule.source, { allowTagAndDigest: false });
    const mirror = parseRegistryEntry(rule.mirror, { allowTagAndDigest: false });
    if (!source.ok) errors.add(`${path}.source`, source.reason);
    else if (source.entry.wildcard) errors.add(`${path}.source`, 'a mirror source cannot be a wildcard');
    if (!mirror.ok) errors.add(`${path}.mirror`, mirror.reason);
    else if (mirror.entry.wildcard) errors.add(`${path}.mirror`, 'a mirror cannot be a wildcard');
    if (!source.ok || !mirror.ok || source.entry.wildcard || mirror.entry.wildcard) return;
    if (source.entry.path.length > 0 && mirror.entry.path.length === 0) {
      errors.add(
        `${path}.mirror`,
        `a source that names a repository or namespace needs a mirror with a path (e.g. "${rule.mirror}/${source.entry.path.join('/')}")`,
      );
      return;
    }
    const key = sourceKey(source.entry);
    const kinds = kindsBySource.get(key) ?? { digestOnly: 0, tagOnly: 0, all: 0, first: i };
    kindsBySource.set(key, kinds);
    if (rule.digestOnly) kinds.digestOnly++;
    else if (rule.tagOnly) kinds.tagOnly++;
    else kinds.all++;
    if (
      kinds.all + kinds.digestOnly + kinds.tagOnly > 1 &&
      (kinds.all > 0 || kinds.digestOnly > 1 || kinds.tagOnly > 1)
    ) {
      errors.add(
        `${path}.source`,
        `"${rule.source}" is already the source of spec.mirrors[${kinds.first}]; a source may appear twice only as one digestOnly and one tagOnly entry`,
      );
      return;
    }
    const compiled: CompiledMirror = {
      ...rule,
      index: i,
      sourceDepth: source.entry.path.length,
      target: mirror.entry,
    };
    mirrors.add(source.entry, compiled);
    mirrorTargets.add(mirror.entry, compiled);
  });
  return { mirrors, mirrorTargets };
}

/** Every rewrite to a mirror that the allowed list does not cover (or the blocked list covers) would be denied. */
function checkMirrorTargetsAreAllowed(
  mirrorTargets: RuleIndex<CompiledMirror>,
  allowed: RuleIndex<string> | null,
  blocked: RuleIndex<string> | null,
  errors: FieldErrors,
): void {
  for (const { value: m } of mirrorTargets.all()) {
    const key = entryKey(m.target);
    if (allowed !== null && allowed.matchFirst(key) === null) {
      errors.add(
        `spec.mirrors[${m.index}].mirror`,
        `"${m.mirror}" is not covered by allowedRegistries: every rewrite to it would be denied`,
      );
    }
    const block = blocked === null ? null : findBlock(blocked, key);
    if (block) {
      errors.add(
        `spec.mirrors[${m.index}].mirror`,
        `"${m.mirror}" is blocked by blockedRegistries entry "${block.value}": every rewrite to it would be denied`,
      );
    }
  }
}

/**
 * A mirror that a source covers would be rewritten again by a later admission (reinvocation, an update): a
 * mirror under its own source grows without end, and A -> B -> A loops. Rewrites never chain within one
 * evaluation, but the policy is wrong all the same, so both are errors.
 */
function checkRewriteCycles(mirrors: RuleIndex<CompiledMirror>, errors: FieldErrors): void {
  const next = new Map<CompiledMirror, CompiledMirror[]>();
  for (const { value: m } of mirrors.all()) {
    const covering = mirrors.matchAll(entryKey(m.target)).map((hit) => hit.value);
    if (covering.includes(m)) {
      errors.add(
        `spec.mirrors[${m.index}].mirror`,
        `"${m.mirror}" is under its own source "${m.source}": it would be rewritten again`,
      );
    }
    next.set(
      m,
      covering.filter((other) => other !== m),
    );
  }
  const state = new Map<CompiledMirror, 'visiting' | 'done'>();
  const visit = (m: CompiledMirror, trail: CompiledMirror[]): void => {
    if (state.get(m) === 'done') return;
    if (state.get(m) === 'visiting') {
      const loop = [...trail.slice(trail.indexOf(m)), m].map((r) => r.source);
      errors.add(`spec.mirrors[${m.index}]`, `rewrite cycle: ${loop.join(' -> ')}`);
      return;
    }
    state.set(m, 'visiting');
    for (const other of next.get(m) ?? []) visit(other, [...trail, m]);
    state.set(m, 'done');
  };
  for (const m of next.keys()) visit(m, []);
}

/**
 * Every entry with `from` makes the server keep a Secret named `secretName` in every covered namespace. Two entries
 * that name one Secret but two different sources would fight over the same copy, so that is an error; the same
 * source named twice (one Secret for several registries) is fine.
 */
function checkPullSecretSources(spec: RegistryPolicy, errors: FieldErrors): void {
  const firstSource = new Map<string, { index: number; source: string }>();
  spec.pullSecrets.forEach((rule, i) => {
    if (rule.from === null) return;
    const source = `${rule.from.namespace}/${rule.from.name}`;
    const first = firstSource.get(rule.secretName);
    if (first === undefined) firstSource.set(rule.secretName, { index: i, source });
    else if (first.source !== source) {
      errors.add(
        `spec.pullSecrets[${i}].from`,
        `"${rule.secretName}" is already copied from ${first.source} (spec.pullSecrets[${first.index}]); one Secret name can have one source`,
      );
    }
  });
}
