#!/usr/bin/env bash
# Stops the local control plane started by up.sh and removes all of its state (.fledge/kwok and
# .fledge/cluster). The cached binaries in $FLEDGE_CACHE are kept. Safe to run when nothing is up.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

cache=${FLEDGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fledge}
# FLEDGE_STATE: where the cluster lives (default .fledge in this checkout); several checkouts can
# share one cluster by pointing at the same folder.
state=${FLEDGE_STATE:-$root/.fledge}
export KWOK_WORKDIR=$state/kwok
name=fledge
clusterdir=$KWOK_WORKDIR/clusters/$name
outdir=$state/cluster
kwokctl=$cache/bin/kwok-$KWOK_VERSION/kwokctl

log() { [ -n "${FLEDGE_CLUSTER_QUIET:-}" ] || echo "cluster: $*" >&2; }
die() { echo "cluster down: $*" >&2; exit 1; }

# up.sh calls us while holding the lock already.
if [ -z "${FLEDGE_CLUSTER_LOCK_HELD:-}" ]; then
  mkdir -p "$state"
  exec 9>"$state/cluster.lock"
  flock -w 600 9 || die "timed out waiting for a running cluster up/down to finish ($state/cluster.lock)"
fi

# ours: pids of processes started for this cluster (their command line names its directory), i.e.
# the ones kwokctl recorded plus any whose pid file is gone. Only these are ever signalled.
# The pattern is "<clusterdir>[/]" so that grep's own command line doesn't match it.
pattern="$(printf '%s' "$clusterdir" | sed 's/[][\.*^$]/\\&/g')[/]"
ours() {
  local f pid
  { grep -la -- "$pattern" /proc/[0-9]*/cmdline 2>/dev/null || true; } | while read -r f; do
    pid=${f#/proc/}
    echo "${pid%/cmdline}"
  done
}

if [ ! -e "$clusterdir" ] && [ ! -e "$outdir" ]; then
  log "no cluster to stop"
  exit 0
fi

start=$(date +%s)
if [ -f "$clusterdir/kwok.yaml" ] && [ -x "$kwokctl" ]; then
  # SIGKILLs the components and removes the cluster directory. The kubeconfig it cleans a context
  # from is its own (the default would be ~/.kube/config, which up.sh never touched).
  "$kwokctl" --name "$name" delete cluster --kubeconfig "$clusterdir/kubeconfig.yaml" 9>&- >/dev/null 2>&1 ||
    log "kwokctl delete cluster failed; stopping the processes directly"
fi

# Leftovers (kwokctl failed, or its pid files were lost). The state is thrown away: no need to be gentle.
pids=$(ours)
if [ -n "$pids" ]; then
  # shellcheck disable=SC2086 # one pid per word
  kill -KILL $pids 2>/dev/null || true
fi
for _ in $(seq 50); do
  [ -n "$(ours)" ] || break
  sleep 0.1
done
[ -z "$(ours)" ] || die "processes of $clusterdir survived SIGKILL: $(ours | tr '\n' ' ')"

rm -rf "$KWOK_WORKDIR" "$outdir"
log "cluster '$name' stopped and its state removed in $(($(date +%s) - start))s"
