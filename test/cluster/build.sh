#!/usr/bin/env bash
# Builds the local control plane's binaries from Go modules and caches them by version:
#   $FLEDGE_CACHE/bin/<component>-<version>/<binary>
# Nothing is downloaded except Go modules through the Go module proxy.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${FLEDGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fledge}
bindir=$cache/bin
mkdir -p "$bindir"

die() { echo "cluster build: $*" >&2; exit 1; }
# Go is only needed when something isn't cached yet (a filled cache works without it).
go_checked=
require_go() {
  [ -z "$go_checked" ] || return 0
  # The Go toolchain's usual home, for shells whose PATH lacks it.
  command -v go >/dev/null 2>&1 || { [ -x /usr/local/go/bin/go ] && PATH=/usr/local/go/bin:$PATH; }
  command -v go >/dev/null 2>&1 || die "Go is not installed (need go >= 1.26 on PATH; see README 'Requirements')"
  local gover
  gover=$(go env GOVERSION | sed 's/^go//')
  case "$gover" in 1.2[6-9]*|1.[3-9]*) ;; *) die "Go $gover is too old: need >= 1.26";; esac
  go_checked=1
}

# Don't let a project GOFLAGS (e.g. -mod=vendor) leak into the throwaway modules.
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0

start=$(date +%s)
built=()

# build NAME VERSION MODULE_SETUP_FN PKG... : builds into $bindir/NAME-VERSION unless already there.
need() { # need DIR BIN... → true when any binary is missing
  local dir=$1; shift
  for b in "$@"; do [ -x "$dir/$b" ] || return 0; done
  return 1
}

throwaway() { # throwaway NAME → prints a fresh temp module dir
  local d
  d=$(mktemp -d "${TMPDIR:-/tmp}/fledge-build-$1.XXXXXX")
  echo "$d"
}

build_kube() {
  local out=$bindir/kubernetes-$KUBE_VERSION
  need "$out" kube-apiserver kube-controller-manager kube-scheduler kubectl || return 0
  require_go
  echo "building Kubernetes $KUBE_VERSION (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl)…" >&2
  local d; d=$(throwaway kube)
  local minor=${KUBE_VERSION#v1.}; local staging=v0.$minor
  ( cd "$d"
    go mod init fledge.local/kube-build >/dev/null 2>&1
    go mod edit -require "k8s.io/kubernetes@$KUBE_VERSION"
    # k8s.io/kubernetes points its staging modules at ./staging, which the proxy doesn't ship:
    # replace each with its published v0.Y.Z twin.
    local gomod; gomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    [ -f "$gomod" ] || die "could not download k8s.io/kubernetes@$KUBE_VERSION"
    grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging' "$gomod" | awk '{print $1}' | while read -r m; do
      go mod edit -replace "$m=$m@$staging"
    done
    cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
    go mod tidy -e >/dev/null 2>&1 || true
    local ld="-s -w"
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld="$ld -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=${minor%%.*} -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
    done
    mkdir -p "$out.tmp"
    for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
      echo "  go build $c" >&2
      go build -trimpath -ldflags "$ld" -o "$out.tmp/$c" "k8s.io/kubernetes/cmd/$c"
    done
  ) || die "building Kubernetes $KUBE_VERSION failed (see the go output above)"
  rm -rf "$out"; mv "$out.tmp" "$out"; rm -rf "$d"
  built+=("kubernetes")
}

build_etcd() {
  local out=$bindir/etcd-$ETCD_VERSION
  need "$out" etcd || return 0
  require_go
  echo "building etcd $ETCD_VERSION…" >&2
  local d; d=$(throwaway etcd)
  ( cd "$d"
    go mod init fledge.local/etcd-build >/dev/null 2>&1
    go mod edit -require "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    # Its go.mod points sibling modules at ../; pin them to the same published version.
    for m in go.etcd.io/etcd/api/v3 go.etcd.io/etcd/client/pkg/v3 go.etcd.io/etcd/client/v3 go.etcd.io/etcd/pkg/v3; do
      go mod edit -require "$m@$ETCD_VERSION"
    done
    printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
    go mod tidy -e >/dev/null 2>&1 || true
    mkdir -p "$out.tmp"
    go build -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3
  ) || die "building etcd $ETCD_VERSION failed (see the go output above)"
  rm -rf "$out"; mv "$out.tmp" "$out"; rm -rf "$d"
  built+=("etcd")
}

build_gobin() { # build_gobin NAME VERSION PKG BIN
  local name=$1 version=$2 pkg=$3 bin=$4
  local out=$bindir/$name-$version
  need "$out" "$bin" || return 0
  require_go
  echo "building $bin $version…" >&2
  mkdir -p "$out.tmp"
  GOBIN="$out.tmp" go install -trimpath -ldflags "-s -w" "$pkg@$version" \
    || die "building $pkg@$version failed (see the go output above)"
  rm -rf "$out"; mv "$out.tmp" "$out"
  built+=("$bin")
}

build_kwok() {
  local out=$bindir/kwok-$KWOK_VERSION
  need "$out" kwok kwokctl || return 0
  require_go
  echo "building kwok and kwokctl $KWOK_VERSION…" >&2
  mkdir -p "$out.tmp"
  GOBIN="$out.tmp" go install -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$KUBE_VERSION" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION" \
    || die "building kwok $KWOK_VERSION failed (see the go output above)"
  rm -rf "$out"; mv "$out.tmp" "$out"
  built+=("kwok")
}

# module_dir MODULE@VERSION: prints where `go mod download` (through the Go module proxy) put the
# module's source. A module zip holds every file of the module, YAML included, except folders that
# are modules of their own.
module_dir() {
  require_go
  local tmp json dir
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/fledge-mod.XXXXXX")
  json=$(cd "$tmp" && go mod download -json "$1" 2>&1) || true
  rmdir "$tmp"
  dir=$(sed -n 's/.*"Dir": "\(.*\)".*/\1/p' <<<"$json")
  { [ -n "$dir" ] && [ -d "$dir" ]; } ||
    die "could not download $1 from the Go module proxy: $(sed -n 's/.*"Error": "\(.*\)".*/\1/p' <<<"$json")"
  echo "$dir"
}

# Gateway API CRDs come from the published Go module (not committed here).
fetch_gateway_api() {
  local out=$cache/gateway-api-$GATEWAY_API_VERSION
  [ -f "$out/standard-install.yaml" ] && return 0
  require_go
  local dir
  dir=$(module_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")
  [ -d "$dir/config/crd/standard" ] || die "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION has no config/crd/standard"
  mkdir -p "$out.tmp"
  for f in "$dir"/config/crd/standard/*.yaml; do cat "$f"; echo '---'; done > "$out.tmp/standard-install.yaml"
  rm -rf "$out"; mv "$out.tmp" "$out"
}

# The meshes' CRDs: one file per source and version, $cache/crds/<source>-<version>.yaml.
crddir=$cache/crds

# pick_crds NAME... < YAML: the documents whose metadata.name is one of NAMEs, each ended by ---.
pick_crds() {
  awk -v want=" $* " '
    function flush() { if (keep) printf "%s---\n", doc; doc = ""; keep = 0 }
    /^---/ { flush(); next }
    { doc = doc $0 "\n" }
    /^  name: / && index(want, " " $2 " ") { keep = 1 }
    END { flush() }'
}

# check_crds FILE NAME...: FILE holds exactly the apiextensions.k8s.io/v1 CRDs NAMEs.
check_crds() {
  local file=$1 n; shift
  for n in "$@"; do grep -qx "  name: $n" "$file" || die "no CRD $n in $file"; done
  [ "$(grep -c '^kind: CustomResourceDefinition$' "$file")" = $# ] || die "$file: expected $# CRDs"
  [ "$(grep -c '^apiVersion: apiextensions.k8s.io/v1$' "$file")" = $# ] || die "$file: not all apiextensions.k8s.io/v1"
}

# fetch_module_crds SOURCE VERSION MODULE "FILE..." CRD...: the CRDs named CRD... out of the
# module's FILEs, unchanged.
fetch_module_crds() {
  local source=$1 version=$2 module=$3 files=$4
  shift 4
  local out=$crddir/$source-$version.yaml dir f
  [ -s "$out" ] && return 0
  require_go
  dir=$(module_dir "$module@$version")
  for f in $files; do [ -f "$dir/$f" ] || die "$module@$version has no $f"; done
  mkdir -p "$crddir"
  for f in $files; do cat "$dir/$f"; printf '\n---\n'; done | pick_crds "$@" >"$out.tmp"
  check_crds "$out.tmp" "$@"
  mv "$out.tmp" "$out"
}

# SMI publishes TrafficSplit as Go types; the YAML in smi-sdk-go is apiextensions v1beta1, which
# Kubernetes no longer serves, and OSM's serves v1alpha2 only. So controller-gen makes one v1 CRD
# serving v1alpha1 (linkerd), v1alpha2 (osm) and v1alpha3/v1alpha4 from smi-sdk-go's types.
fetch_smi_crds() {
  local out=$crddir/smi-$SMI_SDK_VERSION.yaml
  [ -s "$out" ] && return 0
  require_go
  build_gobin controller-gen "$CONTROLLER_TOOLS_VERSION" sigs.k8s.io/controller-tools/cmd/controller-gen controller-gen
  local src d staging=v0.${KUBE_VERSION#v1.}
  src=$(module_dir "github.com/servicemeshinterface/smi-sdk-go@$SMI_SDK_VERSION")
  [ -d "$src/pkg/apis/split" ] || die "smi-sdk-go@$SMI_SDK_VERSION has no pkg/apis/split"
  echo "generating the SMI TrafficSplit CRD (controller-gen $CONTROLLER_TOOLS_VERSION, smi-sdk-go $SMI_SDK_VERSION)…" >&2
  d=$(throwaway smi)
  mkdir -p "$crddir"
  ( cd "$d"
    # A copy of the API packages under the module's own path: their imports resolve without the
    # module's 2020 dependency tree (client-go 0.18), only today's k8s.io/api.
    go mod init github.com/servicemeshinterface/smi-sdk-go >/dev/null 2>&1 &&
      mkdir -p pkg/apis && cp -r "$src/pkg/apis/split" pkg/apis/ && chmod -R u+w pkg &&
      # More than one version needs a storage version: v1alpha2, as OSM's and linkerd-smi's CRDs.
      sed -i 's|^type TrafficSplit struct|// +kubebuilder:storageversion\n&|' pkg/apis/split/v1alpha2/traffic_split.go &&
      go mod edit -require "k8s.io/api@$staging" -require "k8s.io/apimachinery@$staging" &&
      go mod tidy >&2 &&
      "$bindir/controller-gen-$CONTROLLER_TOOLS_VERSION/controller-gen" crd paths=./pkg/apis/split/... output:crd:stdout
  ) >"$out.tmp" || die "generating the SMI CRD failed (see the output above)"
  rm -rf "$d"
  check_crds "$out.tmp" trafficsplits.split.smi-spec.io
  mv "$out.tmp" "$out"
}

fetch_mesh_crds() {
  fetch_module_crds istio "$ISTIO_API_VERSION" istio.io/api kubernetes/customresourcedefinitions.gen.yaml \
    virtualservices.networking.istio.io destinationrules.networking.istio.io
  fetch_smi_crds
  fetch_module_crds contour "$CONTOUR_VERSION" github.com/projectcontour/contour examples/contour/01-crds.yaml \
    httpproxies.projectcontour.io
  fetch_module_crds gloo "$GLOO_VERSION" github.com/solo-io/gloo \
    "install/helm/gloo/crds/gloo.solo.io_v1_Upstream.yaml install/helm/gloo/crds/gateway.solo.io_v1_RouteTable.yaml" \
    upstreams.gloo.solo.io routetables.gateway.solo.io
  fetch_module_crds traefik "$TRAEFIK_VERSION" github.com/traefik/traefik/v3 \
    docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml traefikservices.traefik.io
  fetch_module_crds apisix "$APISIX_INGRESS_VERSION" github.com/apache/apisix-ingress-controller \
    samples/deploy/crd/v1/ApisixRoute.yaml apisixroutes.apisix.apache.org
  fetch_module_crds knative-serving "$KNATIVE_SERVING_VERSION" knative.dev/serving \
    config/core/300-resources/service.yaml services.serving.knative.dev
  fetch_module_crds keda "$KEDA_VERSION" github.com/kedacore/keda/v2 config/crd/bases/keda.sh_scaledobjects.yaml \
    scaledobjects.keda.sh
}

# crd_files: every third-party CRD file up.sh applies, one path a line (fetched by `all` before).
crd_files() {
  local f files=(
    "$cache/gateway-api-$GATEWAY_API_VERSION/standard-install.yaml"
    "$crddir/istio-$ISTIO_API_VERSION.yaml"
    "$crddir/smi-$SMI_SDK_VERSION.yaml"
    "$crddir/contour-$CONTOUR_VERSION.yaml"
    "$crddir/gloo-$GLOO_VERSION.yaml"
    "$crddir/traefik-$TRAEFIK_VERSION.yaml"
    "$crddir/apisix-$APISIX_INGRESS_VERSION.yaml"
    "$crddir/knative-serving-$KNATIVE_SERVING_VERSION.yaml"
    "$crddir/keda-$KEDA_VERSION.yaml"
    "$here"/crds/*.yaml
  )
  for f in "${files[@]}"; do
    [ -s "$f" ] || die "missing $f: run 'bash $here/build.sh all'"
    echo "$f"
  done
}

what=${1:-all}
case "$what" in
  all) build_kube; build_etcd; build_kwok; build_gobin helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm helm; fetch_gateway_api; fetch_mesh_crds ;;
  kube) build_kube ;; etcd) build_etcd ;; kwok) build_kwok ;;
  helm) build_gobin helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm helm ;;
  # Not part of `all`: only the adoption e2e tests need it.
  flagger) build_gobin flagger "$FLAGGER_VERSION" github.com/fluxcd/flagger/cmd/flagger flagger ;;
  gateway-api) fetch_gateway_api ;;
  mesh-crds) fetch_mesh_crds ;;
  crd-files) crd_files ;;
  *) die "unknown component '$what' (all|kube|etcd|kwok|helm|flagger|gateway-api|mesh-crds|crd-files)" ;;
esac

if [ ${#built[@]} -gt 0 ]; then
  echo "cluster build: built ${built[*]} in $(( $(date +%s) - start ))s (cached in $bindir)" >&2
fi
