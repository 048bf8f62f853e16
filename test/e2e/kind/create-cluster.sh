#!/usr/bin/env bash
# Creates a kind cluster for trying Fledge on real (Docker) nodes. Needs docker and kind on PATH.
# The e2e tests don't use it: they run on the local control plane of test/cluster (no Docker needed).
#   KIND_CLUSTER_NAME  cluster name (default: fledge)
#   KIND_NODE_IMAGE    node image, e.g. kindest/node:v1.34.0 (default: kind's own default)
set -euo pipefail
name=${KIND_CLUSTER_NAME:-fledge}

die() { echo "kind: $*" >&2; exit 1; }
for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not on PATH"
done
docker info >/dev/null 2>&1 || die "docker is not running (or this user can't reach it)"

if kind get clusters 2>/dev/null | grep -qx "$name"; then
  echo "kind: cluster '$name' already exists (delete it with: kind delete cluster --name $name)" >&2
else
  image_args=()
  [ -z "${KIND_NODE_IMAGE:-}" ] || image_args=(--image "$KIND_NODE_IMAGE")
  # The API server listens on 127.0.0.1 only.
  kind create cluster --name "$name" "${image_args[@]}" --wait 120s --config - <<'YAML'
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  apiServerAddress: 127.0.0.1
nodes:
  - role: control-plane
  - role: worker
YAML
fi
kubectl --context "kind-$name" wait --for=condition=Ready node --all --timeout=120s
echo "kind: cluster '$name' is ready; kubectl context: kind-$name" >&2
