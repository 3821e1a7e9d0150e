# The two commands of the README. Both install what they need (scripts/ensure-tools.sh).
.PHONY: demo test lint build

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
