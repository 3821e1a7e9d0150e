#!/usr/bin/env bash
# The README's first command: starts a local ecs-sim with a few thousand stopped servers and
# runs `terraform apply` of examples/demo against it with the provider built from this
# checkout, then prints the job ids and a summary. Everything it writes stays in .demo/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

servers="${DEMO_SERVERS:-3000}"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
source_addr="terraform-provider-ecs/ecs"
demo="$root/.demo"
tf="$root/.tools/terraform-1.15.5/terraform"

scripts/ensure-tools.sh all
echo "==> building the provider and ecs-sim (release)" >&2
cargo build --release --bins --quiet

rm -rf "$demo/work" "$demo/mirror"
mkdir -p "$demo/work" "$demo/mirror/registry.terraform.io/$source_addr/$version/linux_amd64"
cp target/release/terraform-provider-ecs \
  "$demo/mirror/registry.terraform.io/$source_addr/$version/linux_amd64/terraform-provider-ecs_v$version"
cp examples/demo/main.tf "$demo/work/"

# The fleet: deterministic ids, all stopped, written both for ecs-sim and for Terraform.
python3 - "$servers" "$demo/servers.json" "$demo/work/server_ids.txt" <<'PY'
import json, sys
n, sim_file, ids_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ids = ["d3e30000-0000-4000-8000-%012x" % i for i in range(n)]
json.dump({"servers": [{"id": i, "status": "SHUTOFF"} for i in ids]}, open(sim_file, "w"))
open(ids_file, "w").write("\n".join(ids) + "\n")
PY

cat > "$demo/terraform.rc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$demo/mirror"
    include = ["registry.terraform.io/$source_addr"]
  }
  direct {
    exclude = ["registry.terraform.io/$source_addr"]
  }
}
RC

# ecs-sim on a free loopback port: starts take 2-6 s here instead of the cloud's 15-35 s,
# and neither side paces starts (the real cloud takes 1000 servers a minute).
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
    kill -TERM "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM
target/release/ecs-sim --listen 127.0.0.1:0 --servers-file "$demo/servers.json" \
  --start-duration-ms 2000,6000 --start-rate-limit-per-minute 0 >"$demo/ecs-sim.out" 2>"$demo/ecs-sim.log" &
sim_pid=$!
url=""
for _ in $(seq 1 100); do
  url="$(head -n1 "$demo/ecs-sim.out" 2>/dev/null || true)"
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "ecs-sim did not start; see $demo/ecs-sim.log" >&2; exit 1; }
echo "==> ecs-sim serving $servers stopped servers at $url" >&2

export TF_CLI_CONFIG_FILE="$demo/terraform.rc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
export HW_ACCESS_KEY=ECSSIMDEMOACCESSKEY0 HW_SECRET_KEY=ecs-sim-demo-secret-key-0000000000000000
export HW_PROJECT_ID=0123456789abcdef0123456789abcdef
cd "$demo/work"
"$tf" init -input=false -no-color >/dev/null
start=$(date +%s.%N)
"$tf" apply -auto-approve -input=false -no-color \
  -var "endpoint=$url" -var "server_ids_file=$demo/work/server_ids.txt"
end=$(date +%s.%N)

echo
echo "==> job ids"
"$tf" output -json job_ids | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)))'
printf '==> started %s, skipped %s, failed %s of %s servers in %.1f s\n' \
  "$("$tf" output -raw started)" "$("$tf" output -raw skipped)" "$("$tf" output -raw failed)" \
  "$servers" "$(python3 -c "print($end - $start)")"
