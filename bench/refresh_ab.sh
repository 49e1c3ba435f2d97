#!/usr/bin/env bash
# Refresh rotations, two builds side by side in one run: $CHAINS chains at
# once (one wrk thread and connection each, every request a real rotation),
# on a fresh database per measurement, alternating A B A B so drift on a noisy
# machine shows. The refresh path of bench/core_ab.sh.
#
#   bash bench/refresh_ab.sh BIN_A BIN_B
#   BACKENDS=sqlite ROUNDS=3 bash bench/refresh_ab.sh /tmp/authql-before target/release/authql
#
# Build the earlier binary from a checkout of the earlier commit (in its own
# target directory). Needs wrk, curl, python3 and for PostgreSQL a server at
# $BENCH_POSTGRES_URL.
set -euo pipefail
exec env PATHS=refresh BENCH_PORT="${BENCH_PORT:-18790}" bash "$(dirname "$0")/core_ab.sh" "$@"
