#!/usr/bin/env bash
# Installs what `make synth` and `make test` need, from package registries only
# (npm, the Go module proxy, PyPI, Debian). Idempotent: every tool is pinned,
# cached under .tools/ (git-ignored) and skipped when already there.
#
# Usage: scripts/install-tools.sh [node] [go] [python] [apt] [schemas]   (default: all)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${TOOLS_DIR:-$ROOT/.tools}"
BIN="$TOOLS/bin"
STAMPS="$TOOLS/stamps"
VENV="$TOOLS/venv"
mkdir -p "$BIN" "$STAMPS"

# ---- pinned versions -------------------------------------------------------
HELM_VERSION=v3.21.4
# helm's default .Capabilities.KubeVersion; keep in step with cluster.kubernetesVersion.
HELM_KUBE_MINOR=33
KUBECONFORM_VERSION=v0.7.0
ACTIONLINT_VERSION=v1.7.11
# trivy needs Go's encoding/json/v2 experiment (GOEXPERIMENT=jsonv2).
TRIVY_VERSION=v0.67.2
PY_PACKAGES=(checkov==3.3.30 "moto[server]==5.2.5" awscli==1.46.3 yamllint==1.38.0 kubernetes-validate==1.37.0)
APT_PACKAGES=(shellcheck mdadm xfsprogs bats util-linux e2fsprogs jq)
# TargetGroupBinding CRD of the AWS Load Balancer Controller, for the chart's
# offline schema test. The module proxy serves the controller only as
# pseudo-versions (its v2/v3 tags lack a /vN module path); this commit is
# v3.2.2+7, whose TargetGroupBinding v1beta1 spec equals v2.14.1's (chart 1.14.1,
# config karpenter.loadBalancerControllerVersion) plus two targetGroupProtocol
# enum values (QUIC, TCP_QUIC).
LBC_CRD_MODULE=sigs.k8s.io/aws-load-balancer-controller
LBC_CRD_MODULE_VERSION=v0.0.0-20260423195125-93ff3b5fdaad
SCHEMAS="$TOOLS/schemas"

log() { printf '[install-tools] %s\n' "$*"; }

stamp_ok() { [[ -f "$STAMPS/$1" ]]; }
stamp_set() { rm -f "$STAMPS/${1%%@*}"@*; touch "$STAMPS/$1"; }

install_node() {
  # node_modules is stale when the lock file is newer than npm's own record of it.
  if [[ -f "$ROOT/node_modules/.package-lock.json" && "$ROOT/node_modules/.package-lock.json" -nt "$ROOT/package-lock.json" ]]; then
    log "node_modules up to date (skip)"
  else
    log "npm ci"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

go_tool() { # name version module [ldflags] [goexperiment]
  local name="$1" version="$2" module="$3" ldflags="${4:-}" experiment="${5:-}"
  if stamp_ok "$name@$version" && [[ -x "$BIN/$name" ]]; then
    log "$name $version present (skip)"
    return
  fi
  log "go install $module@$version"
  GOBIN="$BIN" GOFLAGS=-mod=mod CGO_ENABLED=0 GOEXPERIMENT="$experiment" go install -ldflags "$ldflags" "$module@$version"
  stamp_set "$name@$version"
}

install_go() {
  command -v go >/dev/null || { log "go is required for the Go-based tools"; exit 1; }
  go_tool helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm \
    "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$HELM_KUBE_MINOR -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$HELM_KUBE_MINOR"
  go_tool kubeconform "$KUBECONFORM_VERSION" github.com/yannh/kubeconform/cmd/kubeconform "-s -w"
  go_tool actionlint "$ACTIONLINT_VERSION" github.com/rhysd/actionlint/cmd/actionlint "-s -w"
  go_tool trivy "$TRIVY_VERSION" github.com/aquasecurity/trivy/cmd/trivy "-s -w" jsonv2
}

install_python() {
  local want
  want="$(printf '%s\n' "${PY_PACKAGES[@]}" | sha256sum | cut -c1-16)"
  if stamp_ok "python@$want" && [[ -x "$VENV/bin/python" ]]; then
    log "python venv present (skip)"
    return
  fi
  log "python venv: ${PY_PACKAGES[*]}"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}"
  stamp_set "python@$want"
}

install_apt() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "apt packages present (skip)"
    return
  fi
  log "apt-get install ${missing[*]}"
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_schemas() {
  # kubeconform reads <dir>/<group>/<kind>_<version>.json (scripts/crd-to-jsonschema.mjs).
  if stamp_ok "lbc-crds@$LBC_CRD_MODULE_VERSION" && [[ -f "$SCHEMAS/crds/elbv2.k8s.aws/targetgroupbinding_v1beta1.json" ]]; then
    log "TargetGroupBinding schema present (skip)"
    return
  fi
  command -v go >/dev/null || { log "go is required to download the CRDs"; exit 1; }
  log "go mod download $LBC_CRD_MODULE@$LBC_CRD_MODULE_VERSION (CRDs)"
  local module_dir
  module_dir="$(cd "$(mktemp -d)" && go mod download -json "$LBC_CRD_MODULE@$LBC_CRD_MODULE_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -n "$module_dir" && -d "$module_dir/config/crd/bases" ]] || { log "no config/crd/bases in $LBC_CRD_MODULE@$LBC_CRD_MODULE_VERSION"; exit 1; }
  rm -rf "$SCHEMAS/crds"
  node "$ROOT/scripts/crd-to-jsonschema.mjs" "$SCHEMAS/crds" "$module_dir/config/crd/bases/elbv2.k8s.aws_targetgroupbindings.yaml"
  stamp_set "lbc-crds@$LBC_CRD_MODULE_VERSION"
}

groups=("$@")
[[ ${#groups[@]} -gt 0 ]] || groups=(node go python apt schemas)
for group in "${groups[@]}"; do
  case "$group" in
    node) install_node ;;
    go) install_go ;;
    python) install_python ;;
    apt) install_apt ;;
    schemas) install_schemas ;;
    *) log "unknown group '$group' (expected node, go, python, apt, schemas)"; exit 2 ;;
  esac
done
