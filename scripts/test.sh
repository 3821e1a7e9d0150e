#!/usr/bin/env bash
# Every test: formatting, lints, unit and integration tests, and the end-to-end tests that
# drive the built provider with real Terraform 1.0.3 and 1.15.5 against ecs-sim.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/ensure-tools.sh all
export ECS_E2E_TERRAFORM_DIR="$PWD/.tools"
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
# Not --all-targets: that would also run the fleet benchmark (make bench), minutes long.
cargo test --lib --bins --tests --locked
