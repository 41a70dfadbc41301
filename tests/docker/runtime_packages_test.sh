#!/usr/bin/env bash
# docker/runtime-packages.txt stays in step with the binary: every library octohub links
# directly comes from a package the list names (or from the C/C++ runtime every Debian has),
# and every name on the list is a real, installed package.
set -euo pipefail
binary="$1"
list="$(dirname "$0")/../../docker/runtime-packages.txt"
fail() { echo "runtime packages: $*" >&2; exit 1; }

mapfile -t wanted < <(grep -Ev '^\s*(#|$)' "$list")
# No early-exiting readers in pipelines (grep -q, awk's exit): under pipefail the writer's
# SIGPIPE would fail the test at random.
for package in "${wanted[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
  [ "$status" = "install ok installed" ] ||
    fail "$package is listed but is not a Debian package installed here"
done

base="libc6 libstdc++6 libgcc-s1"
missing=()
for library in $(readelf -d "$binary" | awk '/NEEDED/ {gsub(/[][]/, "", $5); print $5}'); do
  path="$(ldconfig -p | awk -v lib="$library" '$1 == lib && !found {print $NF; found = 1}')"
  [ -n "$path" ] || fail "$library (linked by octohub) is not installed"
  package="$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null || true)"
  [ -n "$package" ] || fail "no installed package holds $path ($library)"
  package="${package%%:*}"
  case " $base ${wanted[*]} " in
    *" $package "*) ;;
    *) missing+=("$package ($library)") ;;
  esac
done
[ ${#missing[@]} -eq 0 ] || fail "octohub links libraries of packages not in docker/runtime-packages.txt: ${missing[*]}"
echo "runtime packages: ${#wanted[@]} listed, every linked library covered"
