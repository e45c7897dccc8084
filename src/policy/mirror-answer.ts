/**
 * What a mirror said about one image (`HEAD /v2/<name>/manifests/<reference>`), as data: the registry adapter
 * (src/registry) produces it, the pure core applies it. `missing` is the registry's 404; `error` is everything
 * that is not an answer about the image (timeout, TLS, refused credentials, 5xx), with the reason for people.
 */
export type MirrorAnswer =
  | { readonly status: 'found'; readonly digest: string; readonly httpStatus: number }
  | { readonly status: 'missing'; readonly httpStatus: number; readonly reason: string }
  | { readonly status: 'error'; readonly httpStatus: number | null; readonly reason: string };
