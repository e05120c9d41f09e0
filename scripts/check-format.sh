#!/usr/bin/env bash
# Fails when clang-format would change any C++ file (fix with `make format`).
set -euo pipefail
cd "$(dirname "$0")/.."
bad=$(git ls-files '*.cc' '*.h' | xargs clang-format --dry-run 2>&1 | grep -c "warning:" || true)
if [ "$bad" != "0" ]; then
  git ls-files '*.cc' '*.h' | xargs clang-format --dry-run 2>&1 | grep "warning:" | cut -d: -f1 | sort -u >&2
  echo "clang-format would change the files above: run make format" >&2
  exit 1
fi
