#!/usr/bin/env bash
# Build and run Action Center on the embedded default: SQLite under ./data, the demo seeded
# on first run, email written as .eml files under ./data/mail. Ctrl-C stops it.
source "$(dirname "$0")/lib.sh"
ensure_build_tools
build_release
say "starting the server"
export LEPTOS_SITE_ROOT="$ROOT/target/site"
exec "$(SERVER_BIN)" serve "$@"
