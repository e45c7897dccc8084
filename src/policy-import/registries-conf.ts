import { TomlError, parse } from 'smol-toml';
import { FieldErrors, MapReader, isRecord } from '../policy/fields.js';
import type { MirrorRoute } from '../policy/types.js';
import type { Alias, ImportResult, Origin, WithOrigins } from './rules.js';

/** The text of one registries.conf, registries.conf.d drop-in or shortnames.conf, in the order the node reads them. */
export interface ImportText {
  readonly text: string;
  readonly file: string;
}

interface Mirror {
  readonly location: string;
  readonly insecure: boolean;
  /** "" (unset), all, digest-only or tag-only. */
  readonly pullFromMirror: string;
}

interface Registry {
  readonly prefix: string;
  readonly location: string;
  readonly insecure: boolean;
  readonly blocked: boolean;
  readonly mirrorByDigestOnly: boolean;
  readonly mirrors: readonly Mirror[];
  readonly origin: Origin;
}

const PULL_FROM_MIRROR = ['', 'all', 'digest-only', 'tag-only'];

/** Top-level keys that tune the client, not which registry an image comes from. */
const KEYS_WITHOUT_ADMISSION_MEANING = ['credential-helpers', 'additional-layer-store-auth-helper'];

/**
 * Maps containers' registries.conf (v2) and shortnames.conf onto policy rules, reading the files in order as
 * containers/image reads a main file and its drop-ins: a later `[[registry]]` with the same prefix replaces an
 * earlier one, a later `unqualified-search-registries` or `short-name-mode` replaces the earlier value, and
 * aliases merge key by key. docs/openshift.md has the field-by-field table.
 */
export function importRegistriesConf(files: readonly ImportText[]): ImportResult {
  const errors = new FieldErrors();
  const notes: string[] = [];
  const registries = new Map<string, Registry>();
  let search: { values: string[]; origin: Origin } | null = null;
  const aliases = new Map<string, WithOrigins<Alias>>();

  for (const { text, file } of files) {
    let doc: unknown;
    try {
      doc = parse(text);
    } catch (err) {
      if (!(err instanceof TomlError)) throw err;
      errors.add(
        file,
        `TOML: ${err.message.split('\n')[0] ?? err.message} (line ${err.line}, column ${err.column})`,
      );
      continue;
    }
    if (!isRecord(doc)) continue;
    if (isRecord(doc.registries)) {
      errors.add(
        `${file} registries`,
        'the v1 format ([registries.search] …) is not supported: convert to v2 ([[registry]])',
      );
      continue;
    }
    const top = new MapReader(doc, file, errors);
    top.list('registry').forEach((item, i) => {
      const reg = readRegistry(item, file, i, errors);
      if (reg) {
        if (registries.has(reg.prefix))
          notes.push(`${file} registry[${i}]: replaces the earlier [[registry]] for prefix "${reg.prefix}"`);
        registries.set(reg.prefix, reg);
      }
    });
    const found = top.stringList('unqualified-search-registries');
    if (found !== null)
      search = { values: found, origin: { document: file, entry: 'unqualified-search-registries' } };
    const mode = top.string('short-name-mode', '');
    if (mode !== '') {
      if (!['enforcing', 'permissive', 'disabled'].includes(mode)) {
        errors.add(top.at('short-name-mode'), `must be enforcing, permissive or disabled, not "${mode}"`);
      }
      notes.push(
        `${file} short-name-mode = "${mode}": no admission meaning (it decides whether podman prompts); ` +
          'admission pins every short name to one registry, so the pod never relies on it',
      );
    }
    const table = MapReader.of(top.raw('aliases'), `${file} aliases`, errors);
    for (const shortName of table?.keys() ?? []) {
      const target = table?.string(shortName, '') ?? '';
      if (target !== '') {
        aliases.set(shortName, {
          value: { shortName, target },
          origins: [{ document: file, entry: `aliases."${shortName}"` }],
        });
      }
    }
    for (const key of KEYS_WITHOUT_ADMISSION_MEANING) {
      if (top.has(key))
        notes.push(`${file} ${key}: no admission meaning (how the node authenticates); ignored`);
      top.raw(key);
    }
    top.rejectUnknown();
  }
  if (errors.messages.length > 0) return { ok: false, errors: errors.messages };

  const dropped: string[] = [];
  const mirrors: WithOrigins<MirrorRoute>[] = [];
  const blocked: WithOrigins<string>[] = [];
  const insecure: WithOrigins<string>[] = [];
  for (const reg of registries.values()) {
    const flag = (name: string): Origin => ({
      document: reg.origin.document,
      entry: `${reg.origin.entry}.${name}`,
    });
    if (reg.blocked) blocked.push({ value: reg.prefix, origins: [flag('blocked')] });
    else if (reg.location !== reg.prefix) {
      // A location other than the prefix is a rewrite with no fallback: the node never contacts the prefix, as
      // with NeverContactSource, so it is blocked the same way (and `policy export` writes a location again).
      blocked.push({ value: reg.prefix, origins: [flag('location')] });
      notes.push(
        `${reg.origin.document} ${reg.origin.entry}: location "${reg.location}" replaces "${reg.prefix}" with no ` +
          `fallback: admission blocks ${reg.prefix}, as for NeverContactSource`,
      );
    }
    if (reg.insecure) insecure.push({ value: reg.prefix, origins: [flag('insecure')] });
    reg.mirrors.forEach((m, k) => {
      if (m.insecure) insecure.push({ value: m.location, origins: [flag(`mirror[${k}].insecure`)] });
    });
    mirrors.push(...mirrorRules(reg, notes, dropped));
  }

  let shortNameRegistry: WithOrigins<string> | null = null;
  if (search !== null) {
    const [first] = search.values;
    if (first === undefined) {
      notes.push(
        `${search.origin.document} unqualified-search-registries = []: the node resolves no short name but ` +
          'aliases; admission keeps its default registry for them (docker.io)',
      );
    } else {
      shortNameRegistry = { value: first, origins: [search.origin] };
      if (search.values.length > 1) {
        notes.push(
          `${search.origin.document} unqualified-search-registries = ${search.values.join(', ')}: short names are ` +
            `pinned to the first, ${first}; admission cannot know which of several registries the node would find an image in`,
        );
      }
    }
  }

  return {
    ok: true,
    rules: {
      mirrors,
      allowedRegistries: null,
      blockedRegistries: blocked.length > 0 ? blocked : null,
      insecureRegistries: insecure,
      shortNameRegistry,
      aliases: [...aliases.values()],
      notes,
      dropped,
    },
  };
}

function readRegistry(item: unknown, file: string, i: number, errors: FieldErrors): Registry | null {
  const entry = `registry[${i}]`;
  const r = MapReader.of(item, `${file} ${entry}`, errors);
  if (r === null) return null;
  const location = r.string('location', '');
  const prefix = r.string('prefix', '') || location;
  if (prefix === '') {
    errors.add(r.path, 'needs a prefix or a location');
    return null;
  }
  const mirrorByDigestOnly = r.boolean('mirror-by-digest-only', false);
  const mirrors = r.list('mirror').flatMap((m, k): Mirror[] => {
    const mr = MapReader.of(m, `${r.path}.mirror[${k}]`, errors);
    if (mr === null) return [];
    const pullFromMirror = mr.string('pull-from-mirror', '');
    if (!PULL_FROM_MIRROR.includes(pullFromMirror)) {
      errors.add(mr.at('pull-from-mirror'), `must be all, digest-only or tag-only, not "${pullFromMirror}"`);
    }
    if (pullFromMirror !== '' && mirrorByDigestOnly) {
      // containers/image refuses this combination too: the registry-wide switch and the per-mirror one conflict.
      errors.add(
        mr.at('pull-from-mirror'),
        'cannot be set when the registry has mirror-by-digest-only = true',
      );
    }
    const location = mr.string('location', '');
    if (location === '') errors.add(mr.at('location'), 'is required');
    const mirror = { location, insecure: mr.boolean('insecure', false), pullFromMirror };
    mr.rejectUnknown();
    return [mirror];
  });
  const reg = {
    prefix,
    location: location || prefix,
    insecure: r.boolean('insecure', false),
    blocked: r.boolean('blocked', false),
    mirrorByDigestOnly,
    mirrors,
    origin: { document: file, entry },
  };
  r.rejectUnknown();
  return reg;
}

/**
 * What the node pulls first, for digest and for tag references: the usable mirrors in order, then the
 * registry's location (which replaces the prefix when it differs). Admission rewrites to that first endpoint;
 * one rule when both kinds of pull go to the same place, a digestOnly and a tagOnly rule when they do not.
 */
function mirrorRules(reg: Registry, notes: string[], dropped: string[]): WithOrigins<MirrorRoute>[] {
  if (reg.prefix.startsWith('*.')) {
    if (reg.mirrors.length > 0) {
      const note = `${reg.origin.document} ${reg.origin.entry}: mirrors of a wildcard prefix are not rewritten by admission`;
      notes.push(note);
      dropped.push(note);
    }
    return [];
  }
  const endpoints = (pull: 'digest' | 'tag'): { location: string; entry: string }[] => [
    ...reg.mirrors.flatMap((m, k) => {
      const usable =
        pull === 'digest'
          ? m.pullFromMirror !== 'tag-only'
          : !reg.mirrorByDigestOnly && m.pullFromMirror !== 'digest-only';
      return usable ? [{ location: m.location, entry: `${reg.origin.entry}.mirror[${k}]` }] : [];
    }),
    { location: reg.location, entry: `${reg.origin.entry}.location` },
  ];
  const digest = endpoints('digest');
  const tag = endpoints('tag');
  const target = (list: typeof digest): (typeof digest)[number] | null =>
    list[0] !== undefined && list[0].location !== reg.prefix ? list[0] : null;
  const byDigest = target(digest);
  const byTag = target(tag);
  if (digest.length > 2 || tag.length > 2) {
    notes.push(
      `${reg.origin.document} ${reg.origin.entry}: ${reg.prefix} has several mirrors; admission rewrites to the ` +
        'first the node would try; the others are fallbacks only the node uses',
    );
  }
  const rule = (
    t: { location: string; entry: string },
    digestOnly: boolean,
    tagOnly: boolean,
  ): WithOrigins<MirrorRoute> => ({
    value: { source: reg.prefix, mirror: t.location, digestOnly, tagOnly },
    origins: [{ document: reg.origin.document, entry: t.entry }],
  });
  if (byDigest !== null && byTag !== null && byDigest.location === byTag.location)
    return [rule(byDigest, false, false)];
  return [...(byDigest ? [rule(byDigest, true, false)] : []), ...(byTag ? [rule(byTag, false, true)] : [])];
}
