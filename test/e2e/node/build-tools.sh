#!/usr/bin/env bash
# Builds the node-side tools of the e2e cluster from the Go module proxy, pinned, cached outside the repo:
#   registry   github.com/distribution/distribution/v3/cmd/registry   the enterprise mirror (CNCF distribution)
#   crane      github.com/google/go-containerregistry/cmd/crane       pushes the test images into it
#   containerd github.com/containerd/containerd/v2/cmd/{containerd,containerd-shim-runc-v2,ctr}
#
#   TOOLS=$(bash test/e2e/node/build-tools.sh | tail -n 1)     # a directory holding all five binaries
#
# Why containerd 2.x from the proxy and not Debian's 1.6.20: kubelet 1.37 still runs on 1.6 only through a fallback
# that it counts as losing support (kubelet_cri_losing_support{version="1.38.0"}); 2.x implements RuntimeConfig, so
# a Kubernetes bump does not break the node. It costs about 3 minutes once, then it is cached.
# Progress goes to stderr; the directory is the last (only) line on stdout.
set -euo pipefail
exec 3>&1 1>&2

REGISTRY_VERSION=v3.1.2
CRANE_VERSION=v0.22.1
CONTAINERD_VERSION=v2.4.2

command -v go >/dev/null 2>&1 || { echo "build-tools.sh: 'go' not found in PATH (Go >= 1.26 is needed)" >&2; exit 1; }
root=${REGISTRY_GATE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/registry-gate/tools}
stamp="registry=$REGISTRY_VERSION crane=$CRANE_VERSION containerd=$CONTAINERD_VERSION go=$(go env GOVERSION) platform=$(go env GOOS)/$(go env GOARCH)"
dest="$root/$(echo "$stamp" | sha256sum | cut -c1-12)"
bins=(registry crane containerd containerd-shim-runc-v2 ctr)

current() {
  local b
  [[ -f "$dest/VERSIONS" && "$(head -n 1 "$dest/VERSIONS")" == "$stamp" ]] || return 1
  for b in "${bins[@]}"; do [[ -x "$dest/$b" ]] || return 1; done
}
mkdir -p "$root"
if current; then echo "build-tools.sh: reusing $dest"; echo "$dest" >&3; exit 0; fi
exec 9>"$root/.lock"
flock 9
if current; then echo "build-tools.sh: reusing $dest (built by a concurrent run)"; echo "$dest" >&3; exit 0; fi

start=$SECONDS
tmp=$(mktemp -d "$root/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Static binaries, no VCS stamping, each module's own go.sum (go install pkg@version ignores any go.work or go.mod here).
export GOWORK=off GOFLAGS=-trimpath CGO_ENABLED=0 GOBIN=$tmp
echo "build-tools.sh: go install distribution registry $REGISTRY_VERSION"
go install "github.com/distribution/distribution/v3/cmd/registry@$REGISTRY_VERSION"
echo "build-tools.sh: go install crane $CRANE_VERSION"
go install "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION"
echo "build-tools.sh: go install containerd, containerd-shim-runc-v2, ctr $CONTAINERD_VERSION"
go install "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD_VERSION" \
  "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" \
  "github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD_VERSION"
{
  echo "$stamp"
  echo "# built=$(date -u +%Y-%m-%dT%H:%M:%SZ) in $((SECONDS - start))s"
  (cd "$tmp" && sha256sum "${bins[@]}") | sed 's/^/# sha256 /'
} >"$tmp/VERSIONS"
chmod 755 "$tmp"
rm -rf "$dest"
mv -T "$tmp" "$dest"
trap - EXIT
echo "build-tools.sh: built $dest in $((SECONDS - start))s"
echo "$dest" >&3
