#!/usr/bin/env bash
# The e2e node cluster's supervisor. It runs as PID 1 of its own PID, network and mount namespaces:
#
#   setpriv --pdeathsig KILL -- unshare --pid --fork --mount-proc --net --propagation private --kill-child -- \
#     bash test/e2e/node/cluster.sh WORK
#
# WORK holds what test/e2e/harness/node-cluster.ts wrote: cluster.env (the binaries' paths and the cgroup root),
# pki/, the kubeconfigs and every component's configuration. This script only brings up the network, the private
# mounts and the processes, in order, each waited for; then it writes WORK/ready and waits for SIGTERM.
#
# Why namespaces: the node gets an address that is not loopback (the kubelet refuses loopback) and Pods get
# addresses on a bridge, and all of it exists only in this network namespace, which has no other interface: no
# packet can leave it. The mount namespace holds every mount the kubelet, containerd and runc make, and tmpfs over
# /run and /var/log, so nothing is left on the host. When PID 1 (this script) exits, the kernel kills every process
# in the PID namespace, containers included; `--kill-child` and `--pdeathsig` make that happen even when the test
# runner is killed. What namespaces cannot hold (cgroups, the kubelet's kernel settings) the harness restores.
set -euo pipefail
WORK=${1:?usage: cluster.sh WORK}
# shellcheck source=/dev/null
source "$WORK/cluster.env"
LOGS=$WORK/logs
mkdir -p "$LOGS"
log() { printf '%s cluster.sh: %s\n' "$(date +%T.%3N)" "$*" >>"$LOGS/cluster.log"; }

[ "$$" = 1 ] || { echo "cluster.sh must run as PID 1 of a new PID namespace (see its header)" >&2; exit 2; }

pids=()
stopping=0
teardown() {
  stopping=1
  log "stopping (${#pids[@]} processes)"
  # The kubelet first, so that it does not restart what goes next; the rest dies with this PID namespace.
  [ -z "${KUBELET_PID:-}" ] || kill -TERM "$KUBELET_PID" 2>/dev/null || true
  sleep 0.5
  exit 0
}
trap teardown TERM INT

start() { # name command...: in the background, output to logs/name.log
  local name=$1
  shift
  "$@" >>"$LOGS/$name.log" 2>&1 &
  pids+=("$!")
  log "started $name (pid $!)"
}
wait_until() { # seconds what command...: poll every 0.2 s; a dead process of ours fails at once
  local deadline=$((SECONDS + $1)) what=$2 pid
  shift 2
  until "$@" >/dev/null 2>&1; do
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || { log "a process died (pid $pid) while waiting for $what"; fail "$what"; }
    done
    [ $SECONDS -lt $deadline ] || fail "$what (timed out)"
    sleep 0.2
  done
  log "ready: $what"
}
fail() { echo "$*" >"$WORK/failed"; log "FAILED: $*"; exit 1; }

# The network: loopback, which also holds the node's own address (not a loopback address, which the kubelet
# refuses; on lo because this kernel may lack the dummy device); Pods get addresses on the CNI bridge.
ip link set lo up
ip addr add "$NODE_IP/32" dev lo
# A route for the Service range, so that locally made connections (the apiserver calling a webhook's Service) get
# past the route lookup to kube-proxy's DNAT, which then sends them to a Pod. Pods have their default route already.
ip route add "$SERVICE_CIDR" dev lo

# Private, empty /run and /var/log: containerd's shim sockets and netns files, runc state, the kubelet's
# /var/log/containers links and pod logs all land here and vanish with the namespace.
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=755 tmpfs /var/log

# The kubelet's cgroup root, in every cgroup v1 hierarchy (or the one v2 hierarchy); removed by the harness.
for mp in $CGROUP_MOUNTS; do
  mkdir -p "$mp/$CGROUP_ROOT"
  if [ -f "$mp/cpuset.cpus" ]; then
    cat "$mp/cpuset.cpus" >"$mp/$CGROUP_ROOT/cpuset.cpus"
    cat "$mp/cpuset.mems" >"$mp/$CGROUP_ROOT/cpuset.mems"
  fi
done

k() { "$ASSETS/kubectl" --kubeconfig "$WORK/admin.kubeconfig" "$@"; }

start etcd "$ASSETS/etcd" --name e2e-node --data-dir "$WORK/etcd" --unsafe-no-fsync --log-level warn \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster e2e-node=http://127.0.0.1:2380
# shellcheck disable=SC2086 # the flags are one word each
start kube-apiserver "$ASSETS/kube-apiserver" $(cat "$WORK/kube-apiserver.flags")
wait_until 90 "kube-apiserver /readyz" k get --raw /readyz
start kube-controller-manager "$ASSETS/kube-controller-manager" $(cat "$WORK/kube-controller-manager.flags")
start kube-scheduler "$ASSETS/kube-scheduler" $(cat "$WORK/kube-scheduler.flags")

OTEL_TRACES_EXPORTER=none start registry "$TOOLS/registry" serve "$WORK/registry/config.yml"
wait_until 30 "registry" curl -s --cacert "$WORK/pki/ca.crt" -o /dev/null "https://$MIRROR/v2/"

export PATH=$TOOLS:$PATH # containerd finds containerd-shim-runc-v2 on PATH
start containerd "$TOOLS/containerd" --config "$WORK/containerd/config.toml"
ctr() { "$TOOLS/ctr" --address "$WORK/containerd/containerd.sock" -n k8s.io "$@"; }
wait_until 30 "containerd" ctr version

# The mirror is empty until now: the harness waits for WORK/registry-up, pushes the images (busybox, the pause image,
# registry-gate's own) from outside through this network namespace, then writes WORK/images-pushed.
touch "$WORK/registry-up"
wait_until 300 "the node's images in the mirror (the harness pushes them)" test -f "$WORK/images-pushed"
# The sandbox image is pulled by containerd itself, which has no credentials (giving it the mirror's would make every
# pull work without a pull secret): pre-load it, as air-gapped nodes do.
ctr images pull --hosts-dir "$WORK/containerd/certs.d" --user "$MIRROR_USER:$MIRROR_PASSWORD" "$PAUSE_IMAGE" \
  >>"$LOGS/ctr.log" 2>&1 || fail "pre-loading the pause image"

start kubelet "$ASSETS/kubelet" --config "$WORK/kubelet/config.yaml" --kubeconfig "$WORK/kubelet.kubeconfig" \
  --root-dir "$WORK/kubelet/root" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --v 2
KUBELET_PID=${pids[-1]}
start kube-proxy "$ASSETS/kube-proxy" --config "$WORK/kube-proxy/config.yaml" --hostname-override "$NODE_NAME" --v 1
node_ready() {
  [ "$(k get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
wait_until 180 "node $NODE_NAME Ready" node_ready
wait_until 60 "the default ServiceAccount" k -n default get serviceaccount default

touch "$WORK/ready"
log "cluster ready"
while [ $stopping = 0 ]; do
  sleep 1 &
  wait $! || true
done
