#!/usr/bin/env bash
# Runs the kernel conformance suite (as root) and writes its coverage table (module/target → the
# scenario packets the kernel confirmed) as markdown to $1 (default: stdout).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/dev/stdout}"
tmp="$(mktemp)"
IPTSCOPE_KERNEL_COVERAGE="$tmp" npx vitest run test/kernel >&2 || echo "kernel-coverage: some kernel tests failed (see above); coverage counts only confirmed packets" >&2
cat "$tmp" > "$out"
rm -f "$tmp"
