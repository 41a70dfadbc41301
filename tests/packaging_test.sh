#!/usr/bin/env bash
# Every set-up path installs the one package list, and the README names the two commands.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "packaging: $*" >&2; exit 1; }
grep -q 'docker/packages.txt' docker/Dockerfile || fail "the Dockerfile does not install docker/packages.txt"
grep -q 'docker/packages.txt' scripts/setup || fail "scripts/setup does not install docker/packages.txt"
grep -q 'scripts/setup' scripts/test || fail "scripts/test does not run scripts/setup"
grep -q 'scripts/setup' scripts/demo || fail "scripts/demo does not run scripts/setup"
grep -q 'scripts/test' .ci/run || fail ".ci/run does not run the README's test command"
grep -q '^./scripts/demo' README.md || fail "the README does not give ./scripts/demo"
grep -q '^./scripts/test' README.md || fail "the README does not give ./scripts/test"
while read -r package; do
  apt-cache show "$package" >/dev/null 2>&1 || fail "docker/packages.txt names an unknown package: $package"
done < <(grep -Ev '^\s*(#|$)' docker/packages.txt)
echo "packaging: consistent"
