# The two commands of the README. Both install what they need (scripts/ensure-tools.sh).
.PHONY: demo test lint build bench

demo:
	@scripts/demo.sh

test:
	@scripts/test.sh

lint:
	@scripts/ensure-tools.sh protoc
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

build:
	@scripts/ensure-tools.sh protoc
	cargo build --release --bins

# The fleet benchmark (docs/benchmarks.md): about 10 minutes on 2 cores.
bench:
	@scripts/ensure-tools.sh all
	@scripts/ensure-tools.sh null-provider
	cargo bench --bench fleet

# Release artefacts for the Terraform Registry layout in dist/ (scripts/package.sh).
.PHONY: package
package:
	@scripts/package.sh
