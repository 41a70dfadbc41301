#!/usr/bin/env bash
# clang-tidy (.clang-tidy) over the C++ sources a change touches: those changed since
# OCTOHUB_TIDY_BASE (default: the commit before HEAD), a header standing for the .cpp of the
# same name. The whole tree takes half an hour on two cores; OCTOHUB_TIDY_ALL=1 runs it all.
# Usage: tidy_test.sh BUILD_DIR (with compile_commands.json)
set -euo pipefail
build=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
command -v clang-tidy >/dev/null || { echo "tidy: clang-tidy is not installed" >&2; exit 1; }
[ -f "$build/compile_commands.json" ] || { echo "tidy: no $build/compile_commands.json" >&2; exit 1; }

pattern='^(core|hub|ingest|indexer|api)/.*\.(cpp|h)$'
if [ "${OCTOHUB_TIDY_ALL:-0}" = 1 ]; then
  mapfile -t changed < <(git ls-files | grep -E "$pattern")
else
  base=${OCTOHUB_TIDY_BASE:-HEAD~1}
  if ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
    # A clone without history (depth 1) cannot tell what changed: check core/, which every
    # other library builds on.
    echo "tidy: $base is not in this clone; checking core/" >&2
    mapfile -t changed < <(git ls-files 'core/src/*.cpp')
  else
    # Files not yet added to git count as changed too: a new source is checked before its
    # commit, not first in CI.
    mapfile -t changed < <({ git diff --name-only --diff-filter=d "$base" --
      git ls-files --others --exclude-standard; } | grep -E "$pattern" || true)
  fi
fi

declare -A units=()
for file in "${changed[@]}"; do
  case "$file" in
    *.cpp) units["$file"]=1 ;;
    *.h)
      # A header is checked through the .cpp of the same name in its library, if any.
      stem=$(basename "$file" .h)
      root=${file%%/*}
      while IFS= read -r cpp; do units["$cpp"]=1; done \
        < <(git ls-files --cached --others --exclude-standard "$root" |
              grep -E "/$stem\.cpp$" || true) ;;
  esac
done
files=("${!units[@]}")
if [ ${#files[@]} -eq 0 ]; then
  echo "tidy: no C++ source changed"
  exit 0
fi
printf '%s\n' "${files[@]}" | sort | xargs -P 2 -n 1 clang-tidy -p "$build" --quiet 2>/dev/null \
  > "$build/tidy.log" || status=$?
if grep -q "warning:\|error:" "$build/tidy.log"; then
  cat "$build/tidy.log"
  echo "tidy: findings in the ${#files[@]} files checked" >&2
  exit 1
fi
if [ "${status:-0}" -ne 0 ]; then
  cat "$build/tidy.log"
  echo "tidy: clang-tidy failed" >&2
  exit 1
fi
echo "tidy: ${#files[@]} files are clean"
