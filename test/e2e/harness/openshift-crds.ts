import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * OpenShift's own CustomResourceDefinitions for the image configuration kinds, with their full schemas and CEL
 * rules, as a real cluster serves them: from the `github.com/openshift/api` Go module (the source of OpenShift's
 * generated CRD manifests), pinned to one commit and fetched through the Go module proxy into the module cache, so
 * nothing of it is copied into this repository. The e2e suite then tests only objects a real cluster accepts.
 */
export const OPENSHIFT_API = 'github.com/openshift/api@v0.0.0-20260420151639-34e60874783e';

const CRD_FILES = [
  'config/v1/zz_generated.crd-manifests/0000_10_config-operator_01_images.crd.yaml',
  'config/v1/zz_generated.crd-manifests/0000_10_config-operator_01_imagedigestmirrorsets.crd.yaml',
  'config/v1/zz_generated.crd-manifests/0000_10_config-operator_01_imagetagmirrorsets.crd.yaml',
  'operator/v1alpha1/zz_generated.crd-manifests/0000_10_config-operator_01_imagecontentsourcepolicies.crd.yaml',
] as const;

/** The four CRDs as one multi-document YAML, for `kubectl apply -f -`. */
export async function openshiftImageCrds(): Promise<string> {
  const { stdout } = await promisify(execFile)('go', ['mod', 'download', '-json', OPENSHIFT_API], {
    env: { ...process.env, GOFLAGS: '-mod=mod', GOWORK: 'off' },
    cwd: '/',
  });
  const dir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!dir) throw new Error(`go mod download ${OPENSHIFT_API} gave no directory`);
  const docs = await Promise.all(CRD_FILES.map((f) => readFile(join(dir, f), 'utf8')));
  return docs.join('\n---\n');
}
