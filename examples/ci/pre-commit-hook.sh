#!/usr/bin/env bash
# A git pre-commit hook: refuse a commit that adds or changes audio assets which do not pass
# the project's policy. It checks what is being committed (the staged copies), not the working
# tree. Install with:  ln -s ../../examples/ci/pre-commit-hook.sh .git/hooks/pre-commit
# provsdk is not on PyPI: pip install "provsdk @ git+https://github.com/provsdk/provsdk@v0.1.0"
set -euo pipefail
policy=${PROVSDK_POLICY:-provsdk.toml}
case $policy in /*) ;; *) policy=$PWD/$policy ;; esac

staged=()
while IFS= read -r -d '' path; do
  staged+=("$path")
done < <(git diff --cached --name-only --diff-filter=ACM -z -- \
  '*.wav' '*.mp3' '*.flac' '*.m4a')
if [ "${#staged[@]}" -eq 0 ]; then
  exit 0
fi

# The index blobs, under their own names, in a folder removed however the hook ends.
copies=$(mktemp -d)
trap 'rm -rf "$copies"' EXIT
for path in "${staged[@]}"; do
  mkdir -p "$copies/$(dirname -- "$path")"
  git cat-file blob ":$path" > "$copies/$path"
done

if ! (cd "$copies" && provsdk verify --policy "$policy" -- "${staged[@]}"); then
  echo "pre-commit: the staged audio assets above do not carry the grants $policy requires" >&2
  exit 1
fi
