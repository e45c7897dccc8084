import { isRecord } from '../policy/index.js';
import { clip } from './bounds.js';
import { jsonPointer } from './pointer.js';

/** The container lists of a pod spec, in the order a person reads them. Sidecars are restartable initContainers. */
export const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;
export type ImageList = (typeof CONTAINER_LISTS)[number] | 'volumes';

/** One place in an object that names an image. */
export interface ImageSite {
  readonly list: ImageList;
  readonly index: number;
  /** Container or volume name. */
  readonly name: string;
  readonly image: string;
  /** RFC 6901 pointer to the image string, for the patch. */
  readonly pointer: string;
  /** For people: `spec.template.spec.initContainers[0] "init"`. */
  readonly location: string;
}

export type WalkResult = { ok: true; sites: ImageSite[] } | { ok: false; reason: string };

/**
 * Every image of a pod spec: containers, initContainers, ephemeralContainers and image volumes
 * (`volumes[].image.reference`). A container without an image is skipped (the apiserver's own validation
 * rejects it after admission); a value of the wrong type is malformed input.
 */
export function findImages(spec: unknown, specPath: readonly string[]): WalkResult {
  if (spec === undefined || spec === null) return { ok: true, sites: [] };
  if (!isRecord(spec)) return { ok: false, reason: `${specPath.join('.')} must be an object` };
  const sites: ImageSite[] = [];
  const here = specPath.join('.');
  for (const list of [...CONTAINER_LISTS, 'volumes'] as const) {
    const items = spec[list];
    if (items === undefined || items === null) continue;
    if (!Array.isArray(items)) return { ok: false, reason: `${here}.${list} must be a list` };
    // Escaped once per list, not once per image: a 50-container Pod spent a quarter of its mutation here.
    const listPointer = jsonPointer([...specPath, list]);
    const imagePointer = list === 'volumes' ? '/image/reference' : '/image';
    for (const [index, item] of items.entries()) {
      if (!isRecord(item)) return { ok: false, reason: `${here}.${list}[${index}] must be an object` };
      const name = typeof item['name'] === 'string' ? item['name'] : '';
      // A container names its image in `image`; an image volume in `image.reference`.
      const isVolume = list === 'volumes';
      const holder = isVolume ? item['image'] : item;
      if (!isRecord(holder)) continue; // a volume of another type
      const imagePath = isVolume ? ['image', 'reference'] : ['image'];
      const image = holder[isVolume ? 'reference' : 'image'];
      if (image === undefined || image === null) continue;
      if (typeof image !== 'string') {
        return { ok: false, reason: `${here}.${list}[${index}].${imagePath.join('.')} must be a string` };
      }
      sites.push({
        list,
        index,
        name,
        image,
        pointer: `${listPointer}/${index}${imagePointer}`,
        // Names are DNS labels (63 characters) once the apiserver validates them, which happens after admission.
        location: `${here}.${list}[${index}] "${clip(name, 64)}"`,
      });
    }
  }
  return { ok: true, sites };
}

/** `list/name/image` of every site: what an UPDATE compares against to find new or changed images. */
export function siteKeys(sites: readonly ImageSite[]): Set<string> {
  return new Set(sites.map(siteKey));
}

export function siteKey(site: ImageSite): string {
  return `${site.list}/${site.name}/${site.image}`;
}
