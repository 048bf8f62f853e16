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

# Gateway API CRDs come from the published Go module (not committed here).
fetch_gateway_api() {
  local out=$cache/gateway-api-$GATEWAY_API_VERSION
  [ -f "$out/standard-install.yaml" ] && return 0
  require_go
  local dir
  dir=$(cd "$(mktemp -d)" && go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -d "$dir/config/crd/standard" ] || die "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION has no config/crd/standard"
  mkdir -p "$out.tmp"
  for f in "$dir"/config/crd/standard/*.yaml; do cat "$f"; echo '---'; done > "$out.tmp/standard-install.yaml"
  rm -rf "$out"; mv "$out.tmp" "$out"
}

what=${1:-all}
case "$what" in
  all) build_kube; build_etcd; build_kwok; build_gobin helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm helm; fetch_gateway_api ;;
  kube) build_kube ;; etcd) build_etcd ;; kwok) build_kwok ;;
  helm) build_gobin helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm helm ;;
  gateway-api) fetch_gateway_api ;;
  *) die "unknown component '$what' (all|kube|etcd|kwok|helm|gateway-api)" ;;
esac

if [ ${#built[@]} -gt 0 ]; then
  echo "cluster build: built ${built[*]} in $(( $(date +%s) - start ))s (cached in $bindir)" >&2
fi
