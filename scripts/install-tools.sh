#!/usr/bin/env bash
# Installs what `make synth` and `make test` need, from package registries only
# (npm, the Go module proxy, PyPI, Debian). Idempotent: every tool is pinned,
# cached under .tools/ (git-ignored) and skipped when already there.
#
# Usage: scripts/install-tools.sh [node] [go] [python] [apt] [crds] [schemas] [keda] [lockpip]   (default: all)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${TOOLS_DIR:-$ROOT/.tools}"
BIN="$TOOLS/bin"
STAMPS="$TOOLS/stamps"
VENV="$TOOLS/venv"
mkdir -p "$BIN" "$STAMPS"
# Two installers at once (parallel make, several checkouts sharing TOOLS_DIR)
# would corrupt the venv; the second one waits.
exec 9>"$TOOLS/.install.lock"
flock 9

# ---- pinned versions -------------------------------------------------------
HELM_VERSION=v3.21.4
# helm's default .Capabilities.KubeVersion; keep in step with cluster.kubernetesVersion.
HELM_KUBE_MINOR=35
KUBECONFORM_VERSION=v0.7.0
ACTIONLINT_VERSION=v1.7.11
# trivy needs Go's encoding/json/v2 experiment (GOEXPERIMENT=jsonv2).
TRIVY_VERSION=v0.67.2
PY_PACKAGES=(checkov==3.3.30 "moto[server]==5.2.5" awscli==1.46.3 yamllint==1.38.0 kubernetes-validate==1.37.0)
# pip that resolves the ComfyUI image lock (scripts/lock-image-requirements.sh)
# and dry-runs it in the tests, in a venv of its own so its version is pinned
# apart from the tools venv.
LOCK_PIP_VERSION=25.2
LOCK_VENV="$TOOLS/lock-venv"
APT_PACKAGES=(shellcheck mdadm xfsprogs bats util-linux e2fsprogs jq)
# Karpenter CRDs the rendered NodePool/EC2NodeClass are validated against;
# keep in step with the karpenter.version default in config/schema.ts (a test checks).
KARPENTER_CRDS_VERSION=1.15.1
# TargetGroupBinding CRD of the AWS Load Balancer Controller, for the chart's
# offline schema test. The module proxy serves the controller only as
# pseudo-versions (its v2/v3 tags lack a /vN module path); this commit is
# v3.2.2+7; its TargetGroupBinding v1beta1 spec is the one of the controller
# releases the config pins (karpenter.loadBalancerControllerVersion) plus two
# targetGroupProtocol enum values (QUIC, TCP_QUIC).
LBC_CRD_MODULE=sigs.k8s.io/aws-load-balancer-controller
LBC_CRD_MODULE_VERSION=v0.0.0-20260423195125-93ff3b5fdaad
SCHEMAS="$TOOLS/schemas"
# KEDA (keep in step with the keda.version default in config/schema.ts; a test
# checks). Its CRDs come from the Go module github.com/kedacore/keda/v2, like
# Karpenter's: raw CRDs under .tools/crds/keda/v<version>/ (installable into an
# API server), strict JSON schemas under .tools/schemas/keda/ (kubeconform).
KEDA_VERSION=2.21.1

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

go_tool() { # name version module [ldflags] [goexperiment] [stamp-suffix]
  local name="$1" version="$2" module="$3" ldflags="${4:-}" experiment="${5:-}" suffix="${6:-}"
  if stamp_ok "$name@$version$suffix" && [[ -x "$BIN/$name" ]]; then
    log "$name $version present (skip)"
    return
  fi
  log "go install $module@$version"
  GOBIN="$BIN" GOFLAGS=-mod=mod CGO_ENABLED=0 GOEXPERIMENT="$experiment" go install -ldflags "$ldflags" "$module@$version"
  stamp_set "$name@$version$suffix"
}

install_go() {
  command -v go >/dev/null || { log "go is required for the Go-based tools"; exit 1; }
  go_tool helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm \
    "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$HELM_KUBE_MINOR -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$HELM_KUBE_MINOR" "" "-k1.$HELM_KUBE_MINOR"
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

install_lock_pip() {
  if stamp_ok "lock-pip@$LOCK_PIP_VERSION" && [[ -x "$LOCK_VENV/bin/pip" ]]; then
    log "lock pip $LOCK_PIP_VERSION present (skip)"
    return
  fi
  log "lock venv: pip==$LOCK_PIP_VERSION"
  rm -rf "$LOCK_VENV"
  python3 -m venv "$LOCK_VENV"
  "$LOCK_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pip==$LOCK_PIP_VERSION"
  stamp_set "lock-pip@$LOCK_PIP_VERSION"
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

# The CRDs come from the Go module zip (verified against sum.golang.org by go
# itself). Only the zip is used: extracting it may be refused when the module
# asks for a newer Go than the local toolchain, which does not matter here.
install_karpenter_crds() {
  local version="$KARPENTER_CRDS_VERSION" module=github.com/aws/karpenter-provider-aws
  local target="$TOOLS/karpenter-crds/v$version"
  if stamp_ok "karpenter-crds@$version" && [[ -f "$target/karpenter.sh_nodepools.yaml" && -f "$target/karpenter.k8s.aws_ec2nodeclasses.yaml" ]]; then
    log "karpenter CRDs v$version present (skip)"
    return
  fi
  command -v go >/dev/null || { log "go is required to download the Karpenter CRDs"; exit 1; }
  log "go mod download $module@v$version (CRDs)"
  local json zip
  json="$(GOFLAGS=-mod=mod GOTOOLCHAIN=local go -C "$TOOLS" mod download -json "$module@v$version" || true)"
  zip="$(sed -n 's/^[[:space:]]*"Zip": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
  if [[ -z "$zip" || ! -f "$zip" ]]; then
    log "could not download $module@v$version:"
    printf '%s\n' "$json" >&2
    exit 1
  fi
  rm -rf "$target"
  mkdir -p "$target"
  python3 - "$zip" "$module@v$version/pkg/apis/crds/" "$target" <<'PY'
import os, sys, zipfile
archive, prefix, target = sys.argv[1:4]
with zipfile.ZipFile(archive) as z:
    names = [n for n in z.namelist() if n.startswith(prefix) and n.endswith('.yaml')]
    if not names:
        sys.exit(f'no CRDs under {prefix} in {archive}')
    for name in names:
        with open(os.path.join(target, os.path.basename(name)), 'wb') as out:
            out.write(z.read(name))
PY
  stamp_set "karpenter-crds@$version"
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

install_keda_crds() {
  local version="$KEDA_VERSION" module=github.com/kedacore/keda/v2
  local target="$TOOLS/crds/keda/v$version" schemas="$SCHEMAS/keda"
  if stamp_ok "keda-crds@$version" && [[ -f "$target/keda.sh_scaledobjects.yaml" && -f "$schemas/keda.sh/scaledobject_v1alpha1.json" ]]; then
    log "KEDA CRDs v$version present (skip)"
    return
  fi
  command -v go >/dev/null || { log "go is required to download the KEDA CRDs"; exit 1; }
  log "go mod download $module@v$version (CRDs)"
  local json zip
  # The module asks for a newer Go than the local toolchain; only its zip is used.
  json="$(GOFLAGS=-mod=mod GOTOOLCHAIN=local go -C "$TOOLS" mod download -json "$module@v$version" || true)"
  zip="$(sed -n 's/^[[:space:]]*"Zip": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
  if [[ -z "$zip" || ! -f "$zip" ]]; then
    log "could not download $module@v$version:"
    printf '%s\n' "$json" >&2
    exit 1
  fi
  rm -rf "$target" "$schemas"
  mkdir -p "$target"
  python3 - "$zip" "$module@v$version/config/crd/bases/" "$target" <<'PY'
import os, sys, zipfile
archive, prefix, target = sys.argv[1:4]
with zipfile.ZipFile(archive) as z:
    names = [n for n in z.namelist() if n.startswith(prefix) and n.endswith('.yaml')]
    if not names:
        sys.exit(f'no CRDs under {prefix} in {archive}')
    for name in names:
        with open(os.path.join(target, os.path.basename(name)), 'wb') as out:
            out.write(z.read(name))
PY
  node "$ROOT/scripts/crd-to-jsonschema.mjs" "$schemas" "$target"/keda.sh_*.yaml
  stamp_set "keda-crds@$version"
}

groups=("$@")
[[ ${#groups[@]} -gt 0 ]] || groups=(node go python apt crds schemas keda lockpip)
for group in "${groups[@]}"; do
  case "$group" in
    node) install_node ;;
    go) install_go ;;
    python) install_python ;;
    apt) install_apt ;;
    crds) install_karpenter_crds ;;
    schemas) install_schemas ;;
    keda) install_keda_crds ;;
    lockpip) install_lock_pip ;;
    *) log "unknown group '$group' (expected node, go, python, apt, crds, schemas, keda, lockpip)"; exit 2 ;;
  esac
done
