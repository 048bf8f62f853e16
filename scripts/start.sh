#!/usr/bin/env bash
# `npm start [-- <fledge flags>]`: runs Fledge against the cluster of the current kubeconfig
# (KUBECONFIG, -kubeconfig, or ~/.kube/config) when it answers within 5 s; otherwise starts the
# local demo cluster (test/cluster/up.sh) and runs against it with `-mesh-provider kubernetes`
# unless you pass another one. Either way the Flagger CRDs are applied first.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "$0")/env.sh"
cd "$FLEDGE_ROOT"

log() { echo "fledge start: $*" >&2; }

kube_version=v1.36.3
if [ -f test/cluster/versions.env ]; then
  # shellcheck source=../test/cluster/versions.env
  kube_version=$(. test/cluster/versions.env && echo "${KUBE_VERSION:-$kube_version}")
fi
cached_kubectl=$FLEDGE_CACHE/bin/kubernetes-$kube_version/kubectl

pick_kubectl() {
  if [ -x "$cached_kubectl" ]; then echo "$cached_kubectl"; else command -v kubectl || true; fi
}
kubectl_bin=$(pick_kubectl)

# A -kubeconfig flag among the arguments decides which cluster is "current".
kubeconfig_arg=
has_provider=false
prev=
for arg in "$@"; do
  case "$prev" in -kubeconfig | --kubeconfig) kubeconfig_arg=$arg ;; esac
  case "$arg" in
    -kubeconfig=* | --kubeconfig=*) kubeconfig_arg=${arg#*=} ;;
    -mesh-provider | --mesh-provider | -mesh-provider=* | --mesh-provider=*) has_provider=true ;;
  esac
  prev=$arg
done

k() {
  if [ -n "$kubeconfig_arg" ]; then "$kubectl_bin" --kubeconfig "$kubeconfig_arg" "$@"; else "$kubectl_bin" "$@"; fi
}

reachable() {
  [ -n "$kubectl_bin" ] || return 1
  k --request-timeout=5s get --raw /readyz >/dev/null 2>&1
}

local_cluster=false
if reachable; then
  log "using the cluster of context '$(k config current-context 2>/dev/null || echo in-cluster)'"
else
  if [ -n "$kubeconfig_arg" ]; then
    log "the cluster of -kubeconfig $kubeconfig_arg does not answer; not starting a demo cluster in its place"
    exit 1
  fi
  if [ -z "$kubectl_bin" ]; then
    log "no kubectl found: cannot check the current kubeconfig; starting the local demo cluster"
  else
    log "no cluster answers for the current kubeconfig; starting the local demo cluster"
  fi
  bash test/cluster/up.sh
  export KUBECONFIG=$FLEDGE_ROOT/.fledge/cluster/kubeconfig
  kubectl_bin=$(pick_kubectl)
  [ -n "$kubectl_bin" ] || { log "kubectl is missing after test/cluster/up.sh"; exit 1; }
  local_cluster=true
fi

if [ -f artifacts/flagger/crd.yaml ]; then
  log "applying artifacts/flagger/crd.yaml"
  # Server-side: the CRDs are too big for kubectl's last-applied annotation.
  k apply --server-side --force-conflicts --field-manager=fledge-start -f artifacts/flagger/crd.yaml >/dev/null
else
  log "artifacts/flagger/crd.yaml not found: assuming the Flagger CRDs are installed"
fi

args=()
if $local_cluster && ! $has_provider; then args+=(-mesh-provider kubernetes); fi
exec node src/main.ts ${args[@]+"${args[@]}"} "$@"
