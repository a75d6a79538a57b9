#!/usr/bin/env bash
# A git pre-commit hook: refuse a commit that adds or changes audio assets which do not pass
# the project's policy. Install with:  ln -s ../../examples/ci/pre-commit-hook.sh .git/hooks/pre-commit
set -euo pipefail
policy=${PROVSDK_POLICY:-provsdk.toml}
mapfile -t staged < <(git diff --cached --name-only --diff-filter=ACM -- \
  '*.wav' '*.mp3' '*.flac' '*.m4a')
if [ "${#staged[@]}" -eq 0 ]; then
  exit 0
fi
if ! provsdk verify --policy "$policy" "${staged[@]}"; then
  echo "pre-commit: audio assets above do not carry the grants $policy requires" >&2
  exit 1
fi
