#!/usr/bin/env bash
# Installs what `make synth` and `make test` need, from package registries only
# (npm, the Go module proxy, PyPI, Debian). Idempotent: every tool is pinned,
# cached under .tools/ (git-ignored) and skipped when already there.
#
# Usage: scripts/install-tools.sh [node] [go] [python] [apt] [crds] [schemas] [keda] [lockpip] [kube] [aws-provider]   (default: all)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${TOOLS_DIR:-$ROOT/.tools}"
mkdir -p "$TOOLS/bin" "$TOOLS/stamps"
# A venv writes its own path into every script's shebang: use the physical
# path, so a checkout that reaches a shared .tools through a symlink (a git
# worktree) does not leave venvs that break once that checkout is gone.
TOOLS="$(cd "$TOOLS" && pwd -P)"
BIN="$TOOLS/bin"
STAMPS="$TOOLS/stamps"
VENV="$TOOLS/venv"
# Two installers at once (parallel make, several checkouts sharing TOOLS_DIR)
# would corrupt the venv; the second one waits. The long Go builds (groups
# kube and aws-provider) write only their own versioned directories and each
# take a lock of their own, so they never hold the other groups up for minutes.
lock_main() { exec 9>"$TOOLS/.install.lock"; flock 9; }
lock_build() { # group fd
  eval "exec $2>\"\$TOOLS/.install-\$1.lock\""
  flock "$2"
}

# ---- pinned versions -------------------------------------------------------
HELM_VERSION=v3.21.4
# helm's default .Capabilities.KubeVersion; keep in step with cluster.kubernetesVersion.
HELM_KUBE_MINOR=35
KUBECONFORM_VERSION=v0.7.0
ACTIONLINT_VERSION=v1.7.11
# trivy needs Go's encoding/json/v2 experiment (GOEXPERIMENT=jsonv2).
TRIVY_VERSION=v0.67.2
# moto decodes requests with the botocore of its own venv, and awscli 1.46
# vendors a newer botocore that speaks CloudWatch's JSON protocol: moto's
# botocore must know that protocol too (1.35 does not), so it is pinned here.
PY_PACKAGES=("moto[server]==5.2.5" boto3==1.44.18 botocore==1.44.18 awscli==1.46.3 yamllint==1.38.0 kubernetes-validate==1.37.0)
# checkov pins boto3==1.35.49, which would hold moto's botocore back: own venv.
CHECKOV_PACKAGES=(checkov==3.3.30)
CHECKOV_VENV="$TOOLS/checkov-venv"
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
  want="$(printf '%s\n' "${PY_PACKAGES[@]}" "${CHECKOV_PACKAGES[@]}" | sha256sum | cut -c1-16)"
  if stamp_ok "python@$want" && [[ -x "$VENV/bin/python" ]]; then
    log "python venv present (skip)"
    return
  fi
  log "python venv: ${PY_PACKAGES[*]}"
  rm -rf "$VENV" "$CHECKOV_VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}"
  log "checkov venv: ${CHECKOV_PACKAGES[*]}"
  python3 -m venv "$CHECKOV_VENV"
  "$CHECKOV_VENV/bin/pip" install --quiet --disable-pip-version-check "${CHECKOV_PACKAGES[@]}"
  ln -sf "$CHECKOV_VENV/bin/checkov" "$BIN/checkov"
  stamp_set "python@$want"
}

install_lock_pip() {
  # pip must run, not just exist: its shebang names the venv's python by path.
  if stamp_ok "lock-pip@$LOCK_PIP_VERSION" && "$LOCK_VENV/bin/pip" --version >/dev/null 2>&1; then
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

# Karpenter's own charts (karpenter, karpenter-crd) at the pinned release, from
# the same module zip: make e2e renders the stacks' Karpenter releases with
# them (the Terraform releases pull them from an OCI registry unreachable here).
install_karpenter_charts() {
  local version="$KARPENTER_CRDS_VERSION" module=github.com/aws/karpenter-provider-aws
  local target="$TOOLS/karpenter-charts/v$version"
  if stamp_ok "karpenter-charts@$version" && [[ -f "$target/karpenter/Chart.yaml" && -f "$target/karpenter-crd/Chart.yaml" ]]; then
    log "karpenter charts v$version present (skip)"
    return
  fi
  log "karpenter charts v$version from $module@v$version"
  local json zip
  json="$(GOFLAGS=-mod=mod GOTOOLCHAIN=local go -C "$TOOLS" mod download -json "$module@v$version" || true)"
  zip="$(sed -n 's/^[[:space:]]*"Zip": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
  [[ -n "$zip" && -f "$zip" ]] || { log "could not download $module@v$version:"; printf '%s\n' "$json" >&2; exit 1; }
  rm -rf "$target"
  mkdir -p "$target"
  python3 - "$zip" "$module@v$version/charts/" "$target" <<'PY'
import os, sys, zipfile
archive, prefix, target = sys.argv[1:4]
with zipfile.ZipFile(archive) as z:
    for name in z.namelist():
        if name.startswith((prefix + 'karpenter/', prefix + 'karpenter-crd/')) and not name.endswith('/'):
            path = os.path.join(target, name[len(prefix):])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'wb') as out:
                out.write(z.read(name))
PY
  stamp_set "karpenter-charts@$version"
}

install_schemas() {
  # kubeconform reads <dir>/<group>/<kind>_<version>.json (scripts/crd-to-jsonschema.mjs).
  local lbc_crds="$TOOLS/lbc-crds/$LBC_CRD_MODULE_VERSION"
  if stamp_ok "lbc-crds@$LBC_CRD_MODULE_VERSION" && [[ -f "$SCHEMAS/crds/elbv2.k8s.aws/targetgroupbinding_v1beta1.json" && -f "$lbc_crds/elbv2.k8s.aws_targetgroupbindings.yaml" ]]; then
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
  # The CRD itself, for the real API server of make e2e.
  mkdir -p "$lbc_crds"
  cp "$module_dir/config/crd/bases/elbv2.k8s.aws_targetgroupbindings.yaml" "$lbc_crds/"
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


# ---- deploy-proof tools (make validate, make e2e; docs/verification.md) -----
# Built from the Go module proxy in a writable copy of the downloaded module
# under $TOOLS/build (the module cache is read-only and nothing of it is
# committed), cached as $BIN/<name>-<version>.
# shellcheck source=scripts/deploy-tools.env
source "$ROOT/scripts/deploy-tools.env"
BUILD="$TOOLS/build"

# Prints the module's directory in the Go module cache (downloading it first).
go_module_dir() {
  local json dir
  json="$(GOFLAGS=-mod=mod go -C "$TOOLS" mod download -json "$1" || true)"
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")"
  [[ -n "$dir" && -d "$dir" ]] || { log "could not download $1:"; printf '%s\n' "$json" >&2; exit 1; }
  printf '%s\n' "$dir"
}

# Fresh writable copy of a module directory at $BUILD/<name>.
writable_copy() { # module-dir name
  rm -rf "${BUILD:?}/$2"
  mkdir -p "$BUILD"
  cp -R "$1" "$BUILD/$2"
  chmod -R u+w "$BUILD/$2"
  printf '%s\n' "$BUILD/$2"
}

install_kube() {
  command -v go >/dev/null || { log "go is required to build kube-apiserver, kubectl and etcd"; exit 1; }
  local apiserver="$BIN/kube-apiserver-$KUBE_VERSION" kubectl="$BIN/kubectl-$KUBE_VERSION" etcd="$BIN/etcd-$ETCD_VERSION"
  if [[ -x "$apiserver" && -x "$kubectl" ]] && stamp_ok "kubernetes@$KUBE_VERSION"; then
    log "kube-apiserver and kubectl $KUBE_VERSION present (skip)"
  else
    local started=$SECONDS src minor
    log "building kube-apiserver and kubectl $KUBE_VERSION from k8s.io/kubernetes (a few minutes, once)"
    src="$(writable_copy "$(go_module_dir "k8s.io/kubernetes@$KUBE_VERSION")" "kubernetes-$KUBE_VERSION")"
    # The module's staging/ replaces and go.work point at sources that the
    # published module copies do not need: use the released staging modules.
    rm -rf "$src/go.work" "$src/go.work.sum" "$src/vendor"
    local edits=()
    while read -r path; do
      edits+=("-dropreplace=$path" "-require=$path@v0.${KUBE_VERSION#v1.}")
    done < <(sed -n 's|^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/.*|\1|p' "$src/go.mod")
    [[ ${#edits[@]} -gt 0 ]] || { log "no staging replaces found in k8s.io/kubernetes@$KUBE_VERSION go.mod"; exit 1; }
    (cd "$src" && GOFLAGS=-mod=mod go mod edit "${edits[@]}" && GOFLAGS=-mod=mod go mod tidy)
    minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
    # kubectl refuses a server without a version string: stamp it like a release build.
    local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"
    (cd "$src" && GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0 go build -ldflags "$ldflags" -o "$apiserver.tmp" ./cmd/kube-apiserver \
      && GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0 go build -ldflags "$ldflags" -o "$kubectl.tmp" ./cmd/kubectl)
    mv "$apiserver.tmp" "$apiserver"
    mv "$kubectl.tmp" "$kubectl"
    rm -rf "${src:?}"
    stamp_set "kubernetes@$KUBE_VERSION"
    log "kube-apiserver and kubectl $KUBE_VERSION built in $((SECONDS - started)) s"
  fi
  if [[ -x "$etcd" ]] && stamp_ok "etcd@$ETCD_VERSION"; then
    log "etcd $ETCD_VERSION present (skip)"
  else
    local started=$SECONDS src
    log "building etcd $ETCD_VERSION from go.etcd.io/etcd/server/v3"
    src="$(writable_copy "$(go_module_dir "go.etcd.io/etcd/server/v3@$ETCD_VERSION")" "etcd-$ETCD_VERSION")"
    # Its replaces point at sibling directories of the etcd repository that
    # are not in the module: use the released modules of the same version.
    local edits=()
    while read -r path; do
      edits+=("-dropreplace=$path")
    done < <(sed -n 's|^[[:space:]]*\(go\.etcd\.io/[^ ]*\) => \.\./.*|\1|p' "$src/go.mod")
    (cd "$src" && GOFLAGS=-mod=mod go mod edit "${edits[@]}" && GOFLAGS=-mod=mod go mod tidy \
      && GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0 go build -ldflags "-s -w" -o "$etcd.tmp" .)
    mv "$etcd.tmp" "$etcd"
    rm -rf "${src:?}"
    stamp_set "etcd@$ETCD_VERSION"
    log "etcd $ETCD_VERSION built in $((SECONDS - started)) s"
  fi
}

# The AWS provider, cut to the service packages the synthesized stacks use
# (default config and every config/examples/*.yaml): a stack that starts using
# a new service gets a new cache key and a rebuild (a few minutes), never a
# provider that lacks the type. Used through dev_overrides in a CLI config of
# the project's own (scripts/terraform-dev.sh), never ~/.terraformrc.
install_aws_provider() {
  command -v go >/dev/null || { log "go is required to build the AWS provider"; exit 1; }
  [[ -d "$ROOT/node_modules" ]] || install_node
  local synth_dirs=() config name
  local scratch
  scratch="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$scratch'" RETURN
  (cd "$ROOT" && node scripts/build-app.mjs >/dev/null)
  for config in "" "$ROOT"/config/examples/*.yaml; do
    name="$(basename "${config:-default}" .yaml)"
    (cd "$ROOT" && COMFYUI_CONFIG="$config" CDKTF_OUTDIR="$scratch/$name" node .build/main.js >/dev/null 2>"$scratch/$name.err") \
      || { log "synth failed for config ${config:-default}:"; cat "$scratch/$name.err" >&2; exit 1; }
    synth_dirs+=("$scratch/$name")
  done
  local module=github.com/hashicorp/terraform-provider-aws src services types key target
  local module_dir
  module_dir="$(go_module_dir "$module@$AWS_PROVIDER_MODULE_VERSION")"
  services="$(node "$ROOT/scripts/aws-provider-services.mjs" --provider "$module_dir" "${synth_dirs[@]}")"
  types="$(node "$ROOT/scripts/aws-provider-services.mjs" --provider "$module_dir" --types "${synth_dirs[@]}")"
  # Keyed by the registered types (a new aws_* type rebuilds) and by the build's two source edits.
  key="$(cat <(printf '%s\n' "$types") "$ROOT/scripts/aws-provider-services.mjs" "$ROOT/scripts/aws-provider-emulator-timing.mjs" | sha256sum | cut -c1-12)"
  target="$TOOLS/terraform-providers/aws/$AWS_PROVIDER_MODULE_VERSION/$key"
  if [[ -x "$target/terraform-provider-aws" ]]; then
    log "terraform-provider-aws $AWS_PROVIDER_MODULE_VERSION ($(wc -l <<<"$types") types in $(wc -l <<<"$services") services, $key) present (skip)"
  else
    local started=$SECONDS
    log "building terraform-provider-aws $AWS_PROVIDER_MODULE_VERSION for $(wc -l <<<"$services") services: $(paste -sd ' ' <<<"$services")"
    src="$(writable_copy "$module_dir" "terraform-provider-aws-$key")"
    node "$ROOT/scripts/aws-provider-services.mjs" --provider "$src" --cut "${synth_dirs[@]}" >/dev/null 2>"$scratch/cut.log" \
      || { cat "$scratch/cut.log" >&2; exit 1; }
    sed 's/^/[install-tools] /' "$scratch/cut.log"
    # Opt-in switch (TF_AWS_EMULATOR_TIMING=1, set only by make e2e) that skips eventual-consistency waits against moto.
    node "$ROOT/scripts/aws-provider-emulator-timing.mjs" "$src"
    mkdir -p "$target"
    (cd "$src" && GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0 go build -ldflags "-s -w" -o "$target/terraform-provider-aws.tmp" .)
    mv "$target/terraform-provider-aws.tmp" "$target/terraform-provider-aws"
    # The CHANGELOG travels with the binary (docs/verification.md: checked against AWS_PROVIDER_PIN).
    cp "$module_dir/CHANGELOG.md" "$target/CHANGELOG.md"
    # Every registered service package (endpoint overrides of make e2e cover them all).
    sed -n 's/^\t\t\([a-z0-9]*\)\.ServicePackage(ctx),$/\1/p' "$src/internal/provider/sdkv2/service_packages_gen.go" >"$target/services.txt"
    rm -rf "${src:?}"
    log "terraform-provider-aws built in $((SECONDS - started)) s"
  fi
  # This checkout's Terraform CLI config: dev_overrides pointing at the build
  # for its stacks (.tools may be shared by checkouts with other stacks).
  mkdir -p "$ROOT/.deploy-proof"
  cat >"$ROOT/.deploy-proof/terraform.tfrc" <<EOF
# Written by scripts/install-tools.sh aws-provider; used only through
# TF_CLI_CONFIG_FILE by scripts/terraform-dev.sh (make validate-dev, make e2e),
# never as ~/.terraformrc. hashicorp/aws is the provider built from the Go
# module proxy ($AWS_PROVIDER_MODULE_VERSION), not the pinned registry release.
provider_installation {
  dev_overrides {
    "registry.terraform.io/hashicorp/aws" = "$target"
  }
  # Nothing else may be downloaded: no other provider installation method.
  filesystem_mirror {
    path    = "$ROOT/.deploy-proof/no-providers"
    include = ["example.invalid/*/*"]
  }
}
EOF
  mkdir -p "$ROOT/.deploy-proof/no-providers"
}

groups=("$@")
[[ ${#groups[@]} -gt 0 ]] || groups=(node go python apt crds schemas keda lockpip kube aws-provider)
for group in "${groups[@]}"; do
  case "$group" in kube | aws-provider) ;; *) lock_main; break ;; esac
done
for group in "${groups[@]}"; do
  case "$group" in kube) lock_build kube 8 ;; aws-provider) lock_build aws-provider 7 ;; esac
done
for group in "${groups[@]}"; do
  case "$group" in
    kube) install_kube ;;
    aws-provider) install_aws_provider ;;
    node) install_node ;;
    go) install_go ;;
    python) install_python ;;
    apt) install_apt ;;
    crds) install_karpenter_crds; install_karpenter_charts ;;
    schemas) install_schemas ;;
    keda) install_keda_crds ;;
    lockpip) install_lock_pip ;;
    *) log "unknown group '$group' (expected node, go, python, apt, crds, schemas, keda, lockpip, kube, aws-provider)"; exit 2 ;;
  esac
done
