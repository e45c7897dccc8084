#!/usr/bin/env bash
# Builds a real Kubernetes control plane from source, in the "envtest layout":
# one directory holding kube-apiserver, etcd, kubectl and kube-controller-manager.
#
#   KUBEBUILDER_ASSETS=$(bash test/e2e/controlplane/build.sh | tail -1)
#
# Versions come from go.mod/go.sum next to this script. The binaries are
# cached outside the repo in
#   ${REGISTRY_GATE_ENVTEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/registry-gate/envtest}/k8s-<ver>-etcd-<ver>/
# and reused while the VERSIONS stamp there matches. Progress goes to stderr;
# the asset directory is the last (and only) line on stdout.
#
# Options:
#   --only NAME[,NAME...]  build only these binaries (kube-apiserver, etcd,
#                          kubectl, kube-controller-manager)
#   --into DIR             put the binaries into DIR (for instance a directory
#                          made by `setup-envtest use`) instead of the cache;
#                          no stamp is written and existing files are replaced
#   --force                rebuild even if the cache is up to date
set -euo pipefail

# Everything but the final path goes to stderr.
exec 3>&1 1>&2

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
all_bins=(kube-apiserver etcd kubectl kube-controller-manager kube-scheduler kubelet kube-proxy)

only=""
into=""
force=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) only=${2:?--only needs a value}; shift 2 ;;
    --only=*) only=${1#*=}; shift ;;
    --into) into=${2:?--into needs a value}; shift 2 ;;
    --into=*) into=${1#*=}; shift ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done

bins=("${all_bins[@]}")
if [[ -n "$only" ]]; then
  IFS=, read -ra bins <<<"$only"
  for b in "${bins[@]}"; do
    case " ${all_bins[*]} " in *" $b "*) ;; *) echo "build.sh: unknown binary: $b" >&2; exit 2 ;; esac
  done
fi

if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: 'go' not found in PATH (Go >= 1.26 is needed)" >&2
  exit 1
fi

# Versions pinned in go.mod (read without touching the network).
modver() { awk -v m="$1" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$here/go.mod"; }
k8s_ver=$(modver k8s.io/kubernetes)
etcd_ver=$(modver go.etcd.io/etcd/server/v3)
if [[ -z "$k8s_ver" || -z "$etcd_ver" ]]; then
  echo "build.sh: could not read k8s.io/kubernetes / etcd versions from $here/go.mod" >&2
  exit 1
fi
k8s_major=${k8s_ver#v}; k8s_major=${k8s_major%%.*}
k8s_minor=${k8s_ver#v*.}; k8s_minor=${k8s_minor%%.*}

# Go settings: the module's own go.mod/go.sum only, never rewritten, no VCS
# stamping, static binaries (as the Kubernetes release builds them).
export GOWORK=off CGO_ENABLED=0
goflags=(-mod=readonly -buildvcs=false -trimpath)

# Same -X variables as hack/lib/version.sh in Kubernetes. There is no git
# checkout, so gitCommit is left empty; buildDate (added in build_into) is the
# release's publication time from the module proxy, keeping builds reproducible.
version_pkgs=(k8s.io/component-base/version k8s.io/client-go/pkg/version)
k8s_ldflags="-s -w"
for pkg in "${version_pkgs[@]}"; do
  k8s_ldflags+=" -X $pkg.gitVersion=$k8s_ver -X $pkg.gitMajor=$k8s_major -X $pkg.gitMinor=$k8s_minor"
  k8s_ldflags+=" -X $pkg.gitCommit= -X $pkg.gitTreeState=clean"
done
k8s_tags=selinux,notest,grpcnotrace
etcd_ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$etcd_ver"

goos_goarch=$(go env GOOS)/$(go env GOARCH)
recipe="goflags=${goflags[*]} cgo=$CGO_ENABLED k8s_tags=$k8s_tags k8s_ldflags=$k8s_ldflags etcd_ldflags=$etcd_ldflags"
inputs_sha=$( { cat "$here/go.mod" "$here/go.sum"; echo "$recipe"; } | sha256sum | cut -d' ' -f1)
stamp="kubernetes=$k8s_ver
etcd=$etcd_ver
platform=$goos_goarch
inputs_sha256=$inputs_sha"

# build_into DIR: builds the selected binaries into DIR.
build_into() {
  local out=$1 k8s_pkgs=() want_etcd=0 b
  for b in "${bins[@]}"; do
    case "$b" in
      etcd) want_etcd=1 ;;
      *) k8s_pkgs+=("k8s.io/kubernetes/cmd/$b") ;;
    esac
  done
  if [[ ${#k8s_pkgs[@]} -gt 0 ]]; then
    local build_date ldflags=$k8s_ldflags pkg
    build_date=$(cd "$here" && go list "${goflags[@]}" -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)
    for pkg in "${version_pkgs[@]}"; do ldflags+=" -X $pkg.buildDate=$build_date"; done
    echo "build.sh: go build ${k8s_pkgs[*]} ($k8s_ver)"
    (cd "$here" && go build "${goflags[@]}" -tags "$k8s_tags" -ldflags "$ldflags" -o "$out/" "${k8s_pkgs[@]}")
  fi
  if [[ $want_etcd -eq 1 ]]; then
    echo "build.sh: go build go.etcd.io/etcd/server/v3 ($etcd_ver)"
    (cd "$here" && go build "${goflags[@]}" -ldflags "$etcd_ldflags" -o "$out/etcd" go.etcd.io/etcd/server/v3)
  fi
  # Sanity check: every binary runs and reports the pinned version.
  for b in "${bins[@]}"; do
    local v
    case "$b" in
      etcd) v=$("$out/etcd" --version | head -1) ;;
      kubectl) v=$("$out/kubectl" version --client 2>/dev/null | head -1) ;;
      *) v=$("$out/$b" --version) ;;
    esac
    echo "build.sh:   $b: $v"
    local want=$k8s_ver
    [[ $b != etcd ]] || want=${etcd_ver#v}
    if [[ "$v" != *"$want"* ]]; then
      echo "build.sh: $b reports an unexpected version (want $want): $v" >&2
      return 1
    fi
  done
}

start=$SECONDS

if [[ -n "$into" ]]; then
  mkdir -p "$into"
  into=$(cd "$into" && pwd)
  tmp=$(mktemp -d "$into/.registry-gate-build.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  build_into "$tmp"
  for b in "${bins[@]}"; do mv -f "$tmp/$b" "$into/$b"; done
  echo "build.sh: built ${bins[*]} into $into in $((SECONDS - start))s"
  echo "$into" >&3
  exit 0
fi

if [[ -n "$only" ]]; then
  echo "build.sh: --only needs --into (the cache directory always holds all four binaries)" >&2
  exit 2
fi

root=${REGISTRY_GATE_ENVTEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/registry-gate/envtest}
mkdir -p "$root"
root=$(cd "$root" && pwd)
dest="$root/k8s-$k8s_ver-etcd-$etcd_ver"

is_current() {
  local b
  [[ -f "$dest/VERSIONS" ]] || return 1
  [[ "$(grep -v '^#' "$dest/VERSIONS")" == "$stamp" ]] || return 1
  for b in "${all_bins[@]}"; do [[ -x "$dest/$b" ]] || return 1; done
}

if [[ $force -eq 0 ]] && is_current; then
  echo "build.sh: reusing $dest"
  echo "$dest" >&3
  exit 0
fi

# Serialise concurrent builds of the same cache root (two test runs at once).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$root/.lock"
  flock 9
  if [[ $force -eq 0 ]] && is_current; then
    echo "build.sh: reusing $dest (built by a concurrent run)"
    echo "$dest" >&3
    exit 0
  fi
fi

echo "build.sh: building Kubernetes $k8s_ver + etcd $etcd_ver ($goos_goarch, $(go env GOVERSION)) into $dest"
tmp=$(mktemp -d "$root/.build-k8s-$k8s_ver-etcd-$etcd_ver.XXXXXX")
old=""
cleanup() { rm -rf "$tmp"; [[ -z "$old" ]] || rm -rf "$old"; }
trap cleanup EXIT

build_into "$tmp"

elapsed=$((SECONDS - start))
{
  echo "$stamp"
  echo "# go=$(go env GOVERSION)"
  echo "# built=$(date -u +%Y-%m-%dT%H:%M:%SZ) in ${elapsed}s"
  (cd "$tmp" && sha256sum "${all_bins[@]}") | sed 's/^/# sha256 /'
} >"$tmp/VERSIONS"
chmod 755 "$tmp"

# Swap in atomically: the final name only ever points at a complete build.
if [[ -e "$dest" ]]; then
  old="$root/.old-$(basename "$dest").$$"
  mv -T "$dest" "$old"
fi
mv -T "$tmp" "$dest"

echo "build.sh: built $dest in ${elapsed}s"
du -sh "$dest"/* | sed 's/^/build.sh:   /'
echo "$dest" >&3
