#!/usr/bin/env bash
# Release artefacts in the layout the Terraform Registry (and a packed filesystem mirror)
# expects, written to dist/ (git-ignored):
#   terraform-provider-ecs_{VERSION}_linux_amd64.zip  holds terraform-provider-ecs_v{VERSION} (mode 0755)
#   terraform-provider-ecs_{VERSION}_manifest.json    {"version": 1, "metadata": {"protocol_versions": ["6.0"]}}
#   terraform-provider-ecs_{VERSION}_SHA256SUMS       sha256sum lines of the zip and the manifest
# VERSION is the package version in Cargo.toml. The zip is deterministic: the same binary
# always gives the same bytes (fixed timestamp, fixed attributes, written by Python's
# zipfile so that it does not depend on which zip tool a machine has).
#
# Usage: scripts/package.sh [--binary PATH] [--out DIR]
#   --binary PATH  package this linux/amd64 binary instead of building it (cargo build --release)
#   --out DIR      write the artefacts to DIR instead of dist/
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

binary=""
out="$root/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="${2:?--binary needs a path}"; shift 2 ;;
    --out) out="${2:?--out needs a directory}"; shift 2 ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

# The [package] version, not a dependency's.
version="$(awk '/^\[package\]/{p=1; next} /^\[/{p=0} p && /^version *=/{gsub(/^[^"]*"|".*$/, ""); print; exit}' "$root/Cargo.toml")"
[ -n "$version" ] || { echo "package.sh: no version in Cargo.toml's [package]" >&2; exit 1; }

if [ -z "$binary" ]; then
  "$root/scripts/ensure-tools.sh" protoc
  echo "==> building terraform-provider-ecs $version (release)" >&2
  (cd "$root" && cargo build --release --locked --bin terraform-provider-ecs)
  binary="$root/target/release/terraform-provider-ecs"
fi
[ -f "$binary" ] || { echo "package.sh: no binary at $binary" >&2; exit 1; }

mkdir -p "$out"
python3 - "$binary" "$out" "$version" <<'PY'
import hashlib, json, os, sys, zipfile

binary, out, version = sys.argv[1], sys.argv[2], sys.argv[3]
name = "terraform-provider-ecs"

# The archive is named linux_amd64: refuse anything but an x86-64 ELF executable.
with open(binary, "rb") as f:
    head = f.read(20)
if head[:4] != b"\x7fELF" or head[4] != 2 or int.from_bytes(head[18:20], "little") != 0x3E:
    sys.exit(f"package.sh: {binary} is not a linux/amd64 (x86-64 ELF) executable")

zip_name = f"{name}_{version}_linux_amd64.zip"
manifest_name = f"{name}_{version}_manifest.json"
sums_name = f"{name}_{version}_SHA256SUMS"

def write_atomically(final, write):
    tmp = os.path.join(out, f".{final}.tmp")
    with open(tmp, "wb") as f:
        write(f)
    os.replace(tmp, os.path.join(out, final))

def write_zip(f):
    entry = zipfile.ZipInfo(f"{name}_v{version}", date_time=(1980, 1, 1, 0, 0, 0))
    entry.create_system = 3                    # Unix, so that the mode below is honoured
    entry.external_attr = 0o100755 << 16       # regular file, rwxr-xr-x
    entry.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(f, "w") as z, open(binary, "rb") as src, z.open(entry, "w") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)

manifest = {"version": 1, "metadata": {"protocol_versions": ["6.0"]}}
write_atomically(zip_name, write_zip)
write_atomically(manifest_name, lambda f: f.write((json.dumps(manifest, indent=2) + "\n").encode()))

def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()

sums = "".join(f"{sha256(os.path.join(out, n))}  {n}\n" for n in sorted([zip_name, manifest_name]))
write_atomically(sums_name, lambda f: f.write(sums.encode()))
for n in (zip_name, manifest_name, sums_name):
    print(os.path.join(out, n))
PY
