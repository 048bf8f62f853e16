# shellcheck shell=bash
# Sourced by scripts/start.sh, scripts/test.sh and .ci/run. Makes a Node >= 22.19 the `node` on PATH
# (22.18 runs TypeScript without a flag; undici, also under @kubernetes/client-node, wants 22.19):
# when the system's is older (or missing), brings Node 24 LTS from the npm registry into the
# per-user cache without touching the system. Then installs the npm dependencies when needed.
FLEDGE_NODE_VERSION=24.21.0
FLEDGE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export FLEDGE_CACHE=${FLEDGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fledge}

# Node as one number, major * 1000 + minor (22.19 → 22019); 0 when missing.
fledge_node_version() { node -p 'const [a, b] = process.versions.node.split(".").map(Number); a * 1000 + b' 2>/dev/null || echo 0; }
FLEDGE_NODE_MIN=22019

fledge_ensure_node() {
  if [ "$(fledge_node_version)" -ge "$FLEDGE_NODE_MIN" ]; then return 0; fi
  local arch pkg dir
  case "$(uname -m)" in
    x86_64) arch=x64 ;; aarch64|arm64) arch=arm64 ;;
    *) echo "fledge: no Node package for $(uname -m); install Node >= 22.19 yourself" >&2; return 1 ;;
  esac
  pkg=node-linux-$arch
  dir=$FLEDGE_CACHE/node/$FLEDGE_NODE_VERSION-$arch
  if [ ! -x "$dir/node_modules/$pkg/bin/node" ]; then
    command -v npm >/dev/null 2>&1 || { echo "fledge: need npm (any version) to fetch Node $FLEDGE_NODE_VERSION" >&2; return 1; }
    echo "fledge: system Node is $(node --version 2>/dev/null || echo missing); fetching Node $FLEDGE_NODE_VERSION from the npm registry into $dir" >&2
    mkdir -p "$dir"
    npm install --no-save --no-package-lock --no-audit --no-fund --prefix "$dir" "$pkg@$FLEDGE_NODE_VERSION" >&2 || return 1
  fi
  export PATH="$dir/node_modules/$pkg/bin:$PATH"
  [ "$(fledge_node_version)" -ge "$FLEDGE_NODE_MIN" ] || { echo "fledge: Node set-up failed" >&2; return 1; }
}

fledge_ensure_deps() {
  local stamp="$FLEDGE_ROOT/node_modules/.fledge-lock"
  if [ -f "$stamp" ] && cmp -s "$FLEDGE_ROOT/package-lock.json" "$stamp"; then return 0; fi
  (cd "$FLEDGE_ROOT" && npm ci --no-audit --no-fund >&2) || return 1
  cp "$FLEDGE_ROOT/package-lock.json" "$stamp"
}

# fledge_ensure_apt CMD:PACKAGE... installs the Debian packages whose command is missing.
fledge_ensure_apt() {
  local missing=() spec
  for spec in "$@"; do command -v "${spec%%:*}" >/dev/null 2>&1 || missing+=("${spec#*:}"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "fledge: please install these packages: ${missing[*]}" >&2; return 1
  fi
  echo "fledge: installing ${missing[*]} with apt-get" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

fledge_ensure_node && fledge_ensure_deps
