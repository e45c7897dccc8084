import { FieldErrors, MapReader, isRecord } from '../policy/fields.js';
import type { MirrorRoute } from '../policy/types.js';
import { coveringEntry } from './coverage.js';
import { mergeMirrorSets, type MergedMirrors, type MirrorSetEntry } from './mirror-merge.js';
import type { ImportResult, Origin, WithOrigins } from './rules.js';

/** A parsed YAML/JSON document and the file it came from (for origins and messages). */
export interface ImportDocument {
  readonly doc: unknown;
  readonly file: string;
}

interface MirrorSetKind {
  readonly apiVersion: string;
  readonly kind: string;
  readonly field: string;
  readonly pull: 'digest' | 'tag';
  readonly hasSourcePolicy: boolean;
}

/** The three mirror-set kinds: one row each (the ICSP has no mirrorSourcePolicy; the MCO treats it as Allow). */
const MIRROR_SET_KINDS: readonly MirrorSetKind[] = [
  {
    apiVersion: 'config.openshift.io/v1',
    kind: 'ImageDigestMirrorSet',
    field: 'imageDigestMirrors',
    pull: 'digest',
    hasSourcePolicy: true,
  },
  {
    apiVersion: 'operator.openshift.io/v1alpha1',
    kind: 'ImageContentSourcePolicy',
    field: 'repositoryDigestMirrors',
    pull: 'digest',
    hasSourcePolicy: false,
  },
  {
    apiVersion: 'config.openshift.io/v1',
    kind: 'ImageTagMirrorSet',
    field: 'imageTagMirrors',
    pull: 'tag',
    hasSourcePolicy: true,
  },
];

/** `spec` fields of `Image` that steer image streams, builds or the internal registry, not pod pulls. */
const IMAGE_FIELDS_WITHOUT_ADMISSION_MEANING: readonly string[] = [
  'allowedRegistriesForImport',
  'externalRegistryHostnames',
  'additionalTrustedCA',
  'imageStreamImportMode',
];

/** Lists (`oc get … -o yaml`) are flattened; everything else is one object. */
function objectsOf(documents: readonly ImportDocument[]): { object: unknown; file: string }[] {
  return documents.flatMap(({ doc, file }) =>
    isRecord(doc) && typeof doc.kind === 'string' && doc.kind.endsWith('List') && Array.isArray(doc.items)
      ? doc.items.map((object: unknown) => ({ object, file }))
      : [{ object: doc, file }],
  );
}

function nameOf(object: Record<string, unknown>): string {
  const metadata = object.metadata;
  return isRecord(metadata) && typeof metadata.name === 'string' ? metadata.name : '(unnamed)';
}

/**
 * Maps OpenShift's image configuration onto policy rules, as the nodes apply it (docs/openshift.md has the
 * table): `Image/cluster` registrySources, and ICSP/IDMS (digest) and ITMS (tag) mirror sets merged per source
 * the way the Machine Config Operator merges them. Admission rewrites to the first mirror the node would try.
 */
export function importOpenShift(documents: readonly ImportDocument[]): ImportResult {
  const errors = new FieldErrors();
  const notes: string[] = [];
  const dropped: string[] = [];
  const digestEntries: MirrorSetEntry[] = [];
  const tagEntries: MirrorSetEntry[] = [];
  let image: { object: Record<string, unknown>; document: string } | null = null;

  for (const { object, file } of objectsOf(documents)) {
    if (!isRecord(object)) {
      errors.add(file, 'each document must be a Kubernetes object (a map)');
      continue;
    }
    const { apiVersion, kind } = object;
    const document = `${String(kind)}/${nameOf(object)} (${file})`;
    if (apiVersion === 'config.openshift.io/v1' && kind === 'Image') {
      if (nameOf(object) !== 'cluster') {
        notes.push(`${document}: ignored: the nodes read only the Image named "cluster"`);
      } else {
        if (image !== null) notes.push(`${image.document}: replaced by ${document} (the later one wins)`);
        image = { object, document };
      }
      continue;
    }
    const row = MIRROR_SET_KINDS.find((r) => r.apiVersion === apiVersion && r.kind === kind);
    if (row === undefined) {
      errors.add(
        document,
        `apiVersion ${String(apiVersion)}, kind ${String(kind)} is not an OpenShift image configuration ` +
          '(Image, ImageContentSourcePolicy, ImageDigestMirrorSet, ImageTagMirrorSet)',
      );
      continue;
    }
    const into = row.pull === 'digest' ? digestEntries : tagEntries;
    into.push(...readMirrorSet(object, row, document, errors, dropped));
  }

  const imageRules = image === null ? null : readImage(image.object, image.document, errors, notes);
  if (errors.messages.length > 0) return { ok: false, errors: errors.messages };

  const mirrors: WithOrigins<MirrorRoute>[] = [];
  const neverContact: WithOrigins<string>[] = [];
  for (const [merged, pull] of [
    ...mergeMirrorSets(digestEntries).map((m) => [m, 'digest'] as const),
    ...mergeMirrorSets(tagEntries).map((m) => [m, 'tag'] as const),
  ]) {
    const rule = firstMirrorRule(merged, pull, notes);
    if (rule) mirrors.push(rule);
    if (merged.neverContactSource && !neverContact.some((b) => b.value === merged.source)) {
      neverContact.push({
        value: merged.source,
        origins: merged.entries
          .filter((e) => e.neverContactSource)
          .map((e) => at(e.origin, 'mirrorSourcePolicy')),
      });
    }
  }

  let allowed = imageRules?.allowed ?? null;
  let blocked = imageRules?.blocked ?? null;
  // NeverContactSource: the node blocks the source itself and pulls only from mirrors (runtime-utils sets
  // `blocked = true` on the source's registries.conf entry; mirrors are separate entries and stay usable).
  for (const source of neverContact) {
    if (allowed !== null) {
      const cover = coveringEntry(
        allowed.map((a) => a.value),
        source.value,
      );
      if (cover !== null) {
        notes.push(
          `${source.origins.map((o) => o.document).join(', ')}: NeverContactSource for ${source.value}: admission ` +
            `cannot also block it while allowedRegistries ("${cover}") allows it; the node refuses such pulls, so ` +
            'a pod whose image no mirror serves is admitted and then fails to pull',
        );
      }
      continue;
    }
    blocked ??= [];
    if (!blocked.some((b) => b.value === source.value)) blocked = [...blocked, source];
  }
  // OpenShift checks allowedRegistries against the image as written and pulls from the mirror; admission judges
  // the rewritten image, so every mirror it rewrites to must be allowed too.
  if (allowed !== null) {
    for (const m of mirrors) {
      const texts: string[] = allowed.map((a) => a.value);
      if (coveringEntry(texts, m.value.mirror) === null && !texts.includes(m.value.mirror)) {
        allowed = [...allowed, { value: m.value.mirror, origins: m.origins }];
      }
    }
  }

  return {
    ok: true,
    rules: {
      mirrors,
      allowedRegistries: allowed,
      blockedRegistries: blocked,
      insecureRegistries: imageRules?.insecure ?? [],
      shortNameRegistry: imageRules?.searchRegistry ?? null,
      aliases: [],
      notes: [...notes, ...dropped],
      dropped,
    },
  };
}

function at(origin: Origin, suffix: string): Origin {
  return { document: origin.document, entry: `${origin.entry}.${suffix}` };
}

function readMirrorSet(
  object: Record<string, unknown>,
  row: MirrorSetKind,
  document: string,
  errors: FieldErrors,
  dropped: string[],
): MirrorSetEntry[] {
  const spec = MapReader.of(object.spec, `${document} spec`, errors);
  if (spec === null) return [];
  return spec.list(row.field).flatMap((item, i): MirrorSetEntry[] => {
    const path = `spec.${row.field}[${i}]`;
    const entry = MapReader.of(item, `${document} ${path}`, errors);
    if (entry === null) return [];
    const source = entry.string('source', '');
    if (source === '') errors.add(entry.at('source'), 'is required');
    const mirrors = entry.stringList('mirrors') ?? [];
    let never = false;
    if (row.hasSourcePolicy) {
      const policy = entry.string('mirrorSourcePolicy', 'AllowContactingSource');
      if (policy !== 'AllowContactingSource' && policy !== 'NeverContactSource') {
        errors.add(
          entry.at('mirrorSourcePolicy'),
          `must be AllowContactingSource or NeverContactSource, not "${policy}"`,
        );
      }
      never = policy === 'NeverContactSource';
    }
    entry.rejectUnknown();
    if (source.startsWith('*.')) {
      // The CRDs accept `*.host` and the nodes mirror every subdomain, but a policy mirror source is a prefix
      // (docs/policy.md): the entry is left out, said, and counted, and every other entry still applies.
      dropped.push(
        `${document} ${path}: the wildcard source "${source}" is left out (admission rewrites no wildcard ` +
          'source): images from it are judged as written, while the nodes pull them from its mirrors',
      );
      return [];
    }
    return [{ source, mirrors, neverContactSource: never, origin: { document, entry: path } }];
  });
}

/**
 * Admission rewrites to the mirror the node tries first. When the merged order puts the source itself first,
 * the node pulls from the source while it answers, so admission leaves the image as it is.
 */
function firstMirrorRule(
  merged: MergedMirrors,
  pull: 'digest' | 'tag',
  notes: string[],
): WithOrigins<MirrorRoute> | null {
  const first = merged.order[0];
  const docs = merged.entries.map((e) => e.origin.document).join(', ');
  if (first === undefined || first === merged.source) {
    notes.push(`${docs}: ${merged.source} is tried before its mirrors; images from it are not rewritten`);
    return null;
  }
  if (merged.order.length > 1) {
    notes.push(
      `${docs}: ${merged.source} has mirrors ${merged.order.join(', ')} (node order); admission rewrites ${pull} ` +
        `references to the first, ${first}; the others are fallbacks only the node uses`,
    );
  }
  const origins = merged.entries.flatMap((e) => {
    const k = e.mirrors.indexOf(first);
    return k === -1 ? [] : [at(e.origin, `mirrors[${k}]`)];
  });
  return {
    value: { source: merged.source, mirror: first, digestOnly: pull === 'digest', tagOnly: pull === 'tag' },
    origins,
  };
}

interface ImageRules {
  readonly allowed: WithOrigins<string>[] | null;
  readonly blocked: WithOrigins<string>[] | null;
  readonly insecure: WithOrigins<string>[];
  readonly searchRegistry: WithOrigins<string> | null;
}

function readImage(
  object: Record<string, unknown>,
  document: string,
  errors: FieldErrors,
  notes: string[],
): ImageRules {
  const spec = MapReader.of(object.spec, `${document} spec`, errors);
  const sources = MapReader.of(spec?.raw('registrySources'), `${document} spec.registrySources`, errors);
  const list = (field: string): WithOrigins<string>[] | null =>
    sources?.stringList(field)?.map((value, i) => ({
      value,
      origins: [{ document, entry: `spec.registrySources.${field}[${i}]` }],
    })) ?? null;
  const allowed = list('allowedRegistries');
  const blocked = list('blockedRegistries');
  const insecure = list('insecureRegistries') ?? [];
  const search = list('containerRuntimeSearchRegistries') ?? [];
  for (const key of sources?.keys() ?? []) {
    if (
      ![
        'allowedRegistries',
        'blockedRegistries',
        'insecureRegistries',
        'containerRuntimeSearchRegistries',
      ].includes(key)
    ) {
      notes.push(`${document} spec.registrySources.${key}: not known to registry-gate; ignored`);
    }
  }
  for (const key of spec?.keys() ?? []) {
    if (key === 'registrySources') continue;
    notes.push(
      IMAGE_FIELDS_WITHOUT_ADMISSION_MEANING.includes(key)
        ? `${document} spec.${key}: no admission meaning (image streams, builds or the internal registry); ignored`
        : `${document} spec.${key}: not known to registry-gate; ignored`,
    );
  }
  // Several search registries: the node tries each in turn and pulls from the first that has the image, which
  // admission cannot know. The mutating webhook pins the short name to the first one instead, so the node pulls
  // exactly the image that was judged; a name that only a later registry serves then fails to pull rather than
  // coming from a registry nobody judged. (docs/openshift.md, "Short names")
  if (search.length > 1) {
    notes.push(
      `${document} spec.registrySources.containerRuntimeSearchRegistries: ${search.map((s) => s.value).join(', ')}: ` +
        `short names are pinned to the first, ${search[0]?.value ?? ''}; admission cannot know which of several ` +
        'registries the node would find an image in',
    );
  }
  return { allowed, blocked, insecure, searchRegistry: search[0] ?? null };
}
