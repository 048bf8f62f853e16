#!/usr/bin/env bash
# Starts (or reuses) the local Kubernetes control plane the e2e tests run against:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok, all real binaries built
# from Go modules by build.sh, run as plain processes by `kwokctl --runtime binary`, bound to
# 127.0.0.1. Nodes are simulated by kwok; everything else is the real Kubernetes control plane.
#
# Idempotent: a healthy cluster is reused in a few seconds; a stale or unhealthy one is recreated.
# Writes the kubeconfig to .fledge/cluster/kubeconfig. See test/cluster/README.md.
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
pki=$clusterdir/pki
outdir=$state/cluster
kubeconfig=$outdir/kubeconfig
nodes=${FLEDGE_CLUSTER_NODES:-2}

kubebin=$cache/bin/kubernetes-$KUBE_VERSION
etcdbin=$cache/bin/etcd-$ETCD_VERSION
kwokbin=$cache/bin/kwok-$KWOK_VERSION
flagger_crds=$root/artifacts/flagger/crd.yaml
kubectl=$kubebin/kubectl
kwokctl=$kwokbin/kwokctl
components=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok-controller)

started=$(date +%s)
log() { echo "cluster: [$(($(date +%s) - started))s] $*" >&2; }
die() { echo "cluster up: $*" >&2; exit 1; }
k() { "$kubectl" --kubeconfig "$kubeconfig" "$@"; }

case "$nodes" in '' | *[!0-9]* | 0) die "FLEDGE_CLUSTER_NODES must be a positive number, not '$nodes'" ;; esac
command -v openssl >/dev/null 2>&1 || die "openssl is required to generate the cluster PKI (apt-get install openssl)"
command -v flock >/dev/null 2>&1 || die "flock (util-linux) is required"

mkdir -p "$outdir"
# One `up`/`down` at a time (e.g. `npm run cluster:up` while the e2e global setup is starting one).
exec 9>"$state/cluster.lock"
flock -w 3600 9 || die "timed out waiting for another cluster up/down to finish ($state/cluster.lock)"

# 1. Binaries: built from Go modules and cached per version (prints how long a cold build took).
bash "$here/build.sh" all || die "building the control-plane binaries failed (see above)"
for b in "$kubebin/kube-apiserver" "$kubebin/kube-controller-manager" "$kubebin/kube-scheduler" "$kubectl" \
  "$etcdbin/etcd" "$kwokbin/kwok" "$kwokctl"; do
  [ -x "$b" ] || die "missing $b after build.sh; remove $cache/bin and retry"
done
# Third-party CRDs: Gateway API and every mesh's (fetched by build.sh; test/cluster/crds for the
# meshes whose module the proxy doesn't serve).
crd_list=$(bash "$here/build.sh" crd-files) || die "the CRD files are missing after build.sh"
mapfile -t crd_files <<<"$crd_list"

# Anything that changes how the cluster is made forces a recreation.
stamp="kube=$KUBE_VERSION etcd=$ETCD_VERSION kwok=$KWOK_VERSION nodes=$nodes up=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"

# pid_alive COMPONENT: the pid kwokctl recorded is running *and* is one of this cluster's processes.
pid_alive() {
  local pidfile=$clusterdir/pids/$1.pid pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "$clusterdir/"
}

# healthy: prints why not on stdout and fails when the existing cluster can't be reused.
healthy() {
  [ -f "$clusterdir/kwok.yaml" ] || { echo "no cluster"; return 1; }
  { [ -f "$kubeconfig" ] && [ -f "$outdir/stamp" ]; } || { echo "incomplete state"; return 1; }
  # FLEDGE_CLUSTER_REUSE=1: keep a healthy cluster made by another version of this script (several
  # checkouts sharing one cluster through FLEDGE_STATE).
  [ "$(cat "$outdir/stamp")" = "$stamp" ] || [ -n "${FLEDGE_CLUSTER_REUSE:-}" ] ||
    { echo "made with other versions/settings"; return 1; }
  local c
  for c in "${components[@]}"; do pid_alive "$c" || { echo "$c is not running"; return 1; }; done
  openssl x509 -checkend 86400 -noout -in "$pki/admin.crt" >/dev/null || { echo "certificate expires"; return 1; }
  [ "$(k get --raw=/readyz --request-timeout=5s 2>/dev/null)" = ok ] || { echo "kube-apiserver not ready"; return 1; }
}

# gen_pki DIR: the CA and the single admin certificate kwokctl would otherwise generate itself.
# kwokctl skips its own PKI generation when DIR exists; every component uses admin.crt/admin.key
# (serving, client and service-account signing key), so it needs server+client usages and these SANs.
gen_pki() {
  local dir=$1
  mkdir -p "$dir"
  cat >"$dir/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = kwok-ca
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,keyEncipherment,keyCertSign
subjectKeyIdentifier = hash
[admin_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = @sans
[sans]
DNS.1 = kubernetes
DNS.2 = kubernetes.default
DNS.3 = kubernetes.default.svc
DNS.4 = kubernetes.default.svc.cluster.local
DNS.5 = localhost
IP.1 = 127.0.0.1
IP.2 = ::1
EOF
  (
    cd "$dir"
    umask 077
    openssl genrsa -traditional -out ca.key 2048
    openssl req -x509 -new -sha256 -config openssl.cnf -extensions ca_ext -key ca.key -subj /CN=kwok-ca \
      -days 3650 -out ca.crt
    openssl genrsa -traditional -out admin.key 2048
    openssl req -new -sha256 -config openssl.cnf -key admin.key -subj "/O=system:masters/CN=kwok-admin" -out admin.csr
    openssl x509 -req -sha256 -in admin.csr -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" \
      -days 365 -extfile openssl.cnf -extensions admin_ext -out admin.crt
    rm -f admin.csr openssl.cnf
  ) >/dev/null 2>&1 || die "generating the PKI with openssl failed in $dir"
  chmod 644 "$dir/ca.crt" "$dir/admin.crt"
}

# wait_until SECONDS WHAT CMD...: polls CMD every second.
wait_until() {
  local timeout=$1 what=$2 deadline
  shift 2
  deadline=$(($(date +%s) + timeout))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "timed out after ${timeout}s waiting for $what (logs: $clusterdir/logs)"
    sleep 1
  done
}
readyz() { [ "$(k get --raw=/readyz --request-timeout=5s 2>/dev/null)" = ok ]; }
crds_established() {
  local out
  out=$(k get crd -o 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Established")].status}{"\n"}{end}') &&
    [ -n "$out" ] && ! grep -qv '=True$' <<<"$out"
}

create() {
  gen_pki "$pki"
  # Options without a kwokctl flag. bindAddress keeps every component on 127.0.0.1 (kwokctl's
  # default is 0.0.0.0); kubectlBinary stops kwokctl from fetching kubectl from dl.k8s.io.
  cat >"$outdir/kwokctl.yaml" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  bindAddress: 127.0.0.1
  kubeVersion: $KUBE_VERSION
  kubectlBinary: $kubectl
  quietPull: true
componentsPatches:
# kube-apiserver's default Service range is a /24: too small for the 1000-canary benchmark (3 Services
# each). advertise-address: never depend on the machine's default route.
- name: kube-apiserver
  extraArgs:
  - key: service-cluster-ip-range
    value: 10.96.0.0/16
  - key: advertise-address
    value: 127.0.0.1
EOF
  log "creating cluster '$name' (kwokctl $KWOK_VERSION, runtime binary, Kubernetes $KUBE_VERSION, etcd $ETCD_VERSION)"
  # PATH: kwokctl looks kubectl up on PATH first. `9>&-`: the daemons must not inherit the lock.
  # --kubeconfig='': leave ~/.kube/config alone; our kubeconfig is written below.
  PATH="$kubebin:$PATH" "$kwokctl" --name "$name" -c "$outdir/kwokctl.yaml" create cluster \
    --runtime binary \
    --kube-authorization=true \
    --kube-admission=true \
    --kube-apiserver-binary "$kubebin/kube-apiserver" \
    --kube-controller-manager-binary "$kubebin/kube-controller-manager" \
    --kube-scheduler-binary "$kubebin/kube-scheduler" \
    --etcd-binary "$etcdbin/etcd" \
    --kwok-controller-binary "$kwokbin/kwok" \
    --kubeconfig '' \
    --timeout 5m 9>&- >"$outdir/kwokctl.log" 2>&1 || {
    log "kwokctl create cluster failed (full output: $outdir/kwokctl.log)"
    return 1
  }

  # kwokctl links the binaries it uses into the cluster's bin dir: all must be ours (nothing fetched).
  local link target
  for link in "$clusterdir"/bin/*; do
    target=$(readlink -f "$link")
    case "$target" in "$cache"/bin/*) ;; *) die "kwokctl used $target for $(basename "$link"), not a cached build" ;; esac
  done
  [ ! -e "$KWOK_WORKDIR/cache" ] || die "kwokctl downloaded something into $KWOK_WORKDIR/cache"
}

write_kubeconfig() {
  local server tmp=$outdir/kubeconfig.tmp
  server=$("$kubectl" config view --kubeconfig "$clusterdir/kubeconfig.yaml" -o 'jsonpath={.clusters[0].cluster.server}')
  case "$server" in https://127.0.0.1:*) ;; *) die "unexpected API server address '$server' in $clusterdir/kubeconfig.yaml" ;; esac
  rm -f "$tmp"
  {
    "$kubectl" config set-cluster "$name" --kubeconfig "$tmp" --server "$server" \
      --certificate-authority "$pki/ca.crt" --embed-certs=true
    "$kubectl" config set-credentials "$name-admin" --kubeconfig "$tmp" \
      --client-certificate "$pki/admin.crt" --client-key "$pki/admin.key" --embed-certs=true
    "$kubectl" config set-context "$name" --kubeconfig "$tmp" --cluster "$name" --user "$name-admin"
    "$kubectl" config use-context "$name" --kubeconfig "$tmp"
  } >/dev/null
  chmod 600 "$tmp"
  mv "$tmp" "$kubeconfig"
}

ensure_nodes() {
  local have
  have=$(k get nodes -l type=kwok -o name) || die "listing the nodes failed"
  have=$(grep -c . <<<"$have" || true)
  if [ "$have" -lt "$nodes" ]; then
    log "creating $nodes fake node(s) managed by kwok"
    PATH="$kubebin:$PATH" "$kwokctl" --name "$name" scale node --replicas "$nodes" 9>&- >>"$outdir/kwokctl.log" 2>&1 || {
      tail -n 20 "$outdir/kwokctl.log" >&2
      die "kwokctl scale node failed (full output: $outdir/kwokctl.log)"
    }
  fi
  k wait --for=condition=Ready node -l type=kwok --timeout=120s >/dev/null ||
    die "the kwok nodes did not become Ready (logs: $clusterdir/logs/kwok-controller.log)"
}

# crd_names FILE...: the metadata.name of every CustomResourceDefinition in the files.
crd_names() {
  awk '/^---/ { crd = 0 } /^kind: CustomResourceDefinition$/ { crd = 1 } crd && /^  name: / { print $2; crd = 0 }' "$@"
}

# Applies the CRDs when they changed since the last apply (or any was deleted).
ensure_crds() {
  local files=("${crd_files[@]}") sum have missing
  if [ -f "$flagger_crds" ]; then
    files+=("$flagger_crds")
  else
    log "artifacts/flagger/crd.yaml does not exist yet: skipping the Flagger CRDs (run up again once it exists)"
  fi
  sum=$(cat "${files[@]}" | sha256sum | cut -c1-64)
  have=$(k get crd -o 'jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}') || die "listing the CRDs failed"
  missing=$(comm -23 <(crd_names "${files[@]}" | sort -u) <(sort -u <<<"$have"))
  if [ "$(cat "$outdir/crds.sha256" 2>/dev/null)" = "$sum" ] && [ -z "$missing" ]; then
    return 0
  fi
  local f shown
  for f in "${files[@]}"; do
    shown=${f#"$root"/}
    log "applying CRDs from ${shown/#"$cache"/\$FLEDGE_CACHE}"
    # Server-side apply: several CRDs (Gateway API, Istio, Gloo) are too big for the last-applied annotation.
    k apply --server-side --force-conflicts --field-manager=fledge-cluster-up -f "$f" >/dev/null ||
      die "applying $f failed"
  done
  wait_until 120 "the CRDs to be Established" crds_established
  echo "$sum" >"$outdir/crds.sha256"
}

# poll SECONDS CMD...: like wait_until, but fails instead of exiting.
poll() {
  local deadline=$(($(date +%s) + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 1
  done
}

# port_race: a component lost a port kwokctl picked to another process, e.g. another cluster
# started at the same moment on this machine (kwokctl picks free ports before the daemons bind them).
port_race() { grep -qs "address already in use" "$outdir/kwokctl.log" "$clusterdir"/logs/*.log; }

# The last lines of kwokctl's and every component's log, for a failure message.
log_tails() {
  local f
  for f in "$outdir/kwokctl.log" "$clusterdir"/logs/*.log; do
    [ -f "$f" ] || continue
    echo "--- ${f#"$state"/}" >&2
    tail -n 8 "$f" >&2
  done
}

# start_cluster: creates the cluster and waits until every component serves; fails (never exits).
start_cluster() {
  create || return 1
  write_kubeconfig
  poll 120 readyz || { log "kube-apiserver /readyz did not answer ok within 120s"; return 1; }
  # The controller manager is up once it has made the default ServiceAccount (pods need it).
  poll 120 k get serviceaccount default -n default ||
    { log "kube-controller-manager made no default ServiceAccount within 120s"; return 1; }
  local c
  for c in "${components[@]}"; do pid_alive "$c" || { log "$c exited after starting"; return 1; }; done
}

result=reused
if why=$(healthy); then
  log "reusing the running cluster '$name'"
else
  result=created
  if [ -e "$clusterdir" ] || [ -e "$outdir/stamp" ]; then
    log "existing cluster can't be reused ($why): recreating it"
  fi
  # We already hold the lock down.sh would take.
  FLEDGE_CLUSTER_LOCK_HELD=1 FLEDGE_CLUSTER_QUIET=1 bash "$here/down.sh" 9>&- || die "cleaning up the stale cluster failed"
  mkdir -p "$outdir"
  attempts=3
  for attempt in $(seq "$attempts"); do
    start_cluster && break
    if [ "$attempt" -lt "$attempts" ] && port_race; then
      log "a component lost its port to another process (attempt $attempt of $attempts): recreating the cluster"
      FLEDGE_CLUSTER_LOCK_HELD=1 FLEDGE_CLUSTER_QUIET=1 bash "$here/down.sh" 9>&- || die "cleaning up the failed cluster failed"
      mkdir -p "$outdir"
      continue
    fi
    log_tails
    die "the cluster did not start (component logs: $clusterdir/logs)"
  done
  echo "$stamp" >"$outdir/stamp"
fi
ensure_nodes
ensure_crds

server=$(k config view --minify -o 'jsonpath={.clusters[0].cluster.server}')
# For programs (the e2e global setup): where things are, and whether this run created the cluster.
cat >"$outdir/cluster.json" <<EOF
{
  "kubeconfig": "$kubeconfig",
  "kubectlDir": "$kubebin",
  "server": "$server",
  "kubernetesVersion": "$KUBE_VERSION",
  "nodes": $nodes,
  "lastUp": "$result"
}
EOF
log "ready: Kubernetes $KUBE_VERSION at $server ($nodes kwok node(s), RBAC on)"
cat >&2 <<EOF

  export KUBECONFIG=$kubeconfig
  export PATH=$kubebin:\$PATH   # kubectl $KUBE_VERSION
  kubectl get nodes

  Stop and remove it with: npm run cluster:down
EOF
