#!/usr/bin/env bash
# The functions run on arm64 (Graviton), where the scanner's first stage and the unescaper take
# their NEON paths. Runs the tests of that stage (its unit tests too: the unescaper's), of the
# trace file splitter (which reads records by blocks) and of the scanner, built for aarch64 and
# run under qemu's user-mode emulation, with Debian's cross linker.
# Installs what it needs when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v qemu-aarch64 >/dev/null || ! command -v aarch64-linux-gnu-gcc >/dev/null; then
    apt-get update -q >/dev/null
    apt-get install -y -q qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross >/dev/null
fi
rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
cargo test --profile local --target aarch64-unknown-linux-gnu -p blockmask -p rules --test classify --test scanner --test traces
cargo test --profile local --target aarch64-unknown-linux-gnu -p blockmask -p trace-files --lib
