#!/usr/bin/env bash
# Installs the Debian packages the e2e node needs, when missing (root; Debian or Ubuntu). Idempotent and quiet when
# everything is there; `apt-get update` runs only when something has to be installed.
#   runc                        the OCI runtime containerd calls
#   iptables                    kube-proxy's Service rules (inside the cluster's own network namespace)
#   containernetworking-plugins bridge, host-local and loopback for Pod networking
#   busybox-static              the test images (busybox and the pause image) are made of it, without the internet
#   apache2-utils               htpasswd: the mirror's bcrypt user file
#   curl                        readiness checks in test/e2e/node/cluster.sh
set -euo pipefail
packages=(runc iptables containernetworking-plugins busybox-static apache2-utils curl)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -gt 0 ] || exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-prerequisites.sh: missing ${missing[*]}; install them as root with apt-get (Debian/Ubuntu)" >&2
  exit 1
fi
echo "install-prerequisites.sh: apt-get install ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
