#!/usr/bin/env bash
# Installs the Flagger CRDs, the Gateway API CRDs and Fledge into the kind cluster made by
# create-cluster.sh, then the podinfo demo workload. Needs docker, kind, kubectl (and helm when
# charts/fledge exists).
#   KIND_CLUSTER_NAME  cluster name (default: fledge)
#   FLEDGE_IMAGE       an already published Fledge image to use instead of building one (repo:tag)
#   MESH_PROVIDER      Fledge's -mesh-provider (default: kubernetes)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
# shellcheck source=../../cluster/versions.env
source "$root/test/cluster/versions.env"
name=${KIND_CLUSTER_NAME:-fledge}
context=kind-$name
namespace=fledge-system
provider=${MESH_PROVIDER:-kubernetes}

die() { echo "install: $*" >&2; exit 1; }
k() { kubectl --context "$context" "$@"; }
for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not on PATH"
done
kind get clusters 2>/dev/null | grep -qx "$name" || die "no kind cluster '$name': run $here/create-cluster.sh first"

# 1. CRDs. Server-side apply: the Gateway API CRDs are too big for client-side apply.
[ -f "$root/artifacts/flagger/crd.yaml" ] || die "missing artifacts/flagger/crd.yaml"
k apply --server-side --force-conflicts -f "$root/artifacts/flagger/crd.yaml"
cache=${FLEDGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fledge}
gateway=$cache/gateway-api-$GATEWAY_API_VERSION/standard-install.yaml
[ -f "$gateway" ] ||
  gateway=https://github.com/kubernetes-sigs/gateway-api/releases/download/$GATEWAY_API_VERSION/standard-install.yaml
k apply --server-side --force-conflicts -f "$gateway"
k wait --for=condition=Established crd --all --timeout=60s

# 2. The Fledge image: the given one, or built from this checkout and loaded into the kind nodes.
image=${FLEDGE_IMAGE:-}
if [ -z "$image" ]; then
  [ -f "$root/Dockerfile" ] || die "no Dockerfile in $root: set FLEDGE_IMAGE=<repo:tag> to use a published image"
  image=fledge:dev
  docker build -t "$image" "$root"
  kind load docker-image "$image" --name "$name"
fi
repo=${image%:*}
tag=${image##*:}
[ "$repo" != "$image" ] || tag=latest

# 3. Fledge itself: the Helm chart when there is one, else the provider's kustomize overlay.
if [ -d "$root/charts/fledge" ]; then
  command -v helm >/dev/null 2>&1 || die "helm is not on PATH (or use npm run cluster:build to get $cache/bin/helm-$HELM_VERSION/helm)"
  helm upgrade --install fledge "$root/charts/fledge" --kube-context "$context" \
    --namespace "$namespace" --create-namespace \
    --set image.repository="$repo" --set image.tag="$tag" --set image.pullPolicy=IfNotPresent \
    --set meshProvider="$provider" --wait --timeout 3m
elif [ -f "$root/kustomize/${provider%%:*}/kustomization.yaml" ]; then
  # The overlay of the provider (kustomize/kubernetes, kustomize/gatewayapi, …) includes the namespace.
  k apply -k "$root/kustomize/${provider%%:*}"
  k -n "$namespace" set image deployment/fledge "fledge=$image"
  k -n "$namespace" rollout status deployment/fledge --timeout=180s
else
  die "neither charts/fledge nor kustomize/${provider%%:*}/kustomization.yaml exists"
fi

# 4. The podinfo demo: a Deployment and its Canary.
k create namespace test --dry-run=client -o yaml | k apply -f -
k -n test apply -f "$here/podinfo.yaml"
k -n test rollout status deployment/podinfo --timeout=180s
k -n test apply -f "$here/podinfo-canary.yaml"
cat >&2 <<MSG
install: done. Watch the canary with
  kubectl --context $context -n test get canary podinfo -w
and start a rollout with
  kubectl --context $context -n test set image deployment/podinfo podinfod=ghcr.io/stefanprodan/podinfo:6.0.1
MSG
