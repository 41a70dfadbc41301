#!/usr/bin/env bash
# The deployment files are valid without a container engine: the compose file against
# docker-compose's schema, the Kubernetes manifests against the API schemas, and the
# kustomization lists every manifest there is.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "deployment files: $*" >&2; exit 1; }

OCTOHUB_DB_PASSWORD=check docker-compose -f docker/compose.yaml config -q ||
  fail "docker/compose.yaml is not a valid compose file"
if docker-compose -f docker/compose.yaml config -q 2>/dev/null; then
  fail "docker/compose.yaml starts without a database password"
fi

node tests/docker/validate_k8s.mjs docker/k8s/*.yaml || fail "a Kubernetes manifest is invalid"

listed="$(sed -n 's/^  - \(.*\.yaml\)$/\1/p' docker/k8s/kustomization.yaml | sort)"
present="$(cd docker/k8s && ls -1 *.yaml | grep -vx kustomization.yaml | sort)"
[ "$listed" = "$present" ] ||
  fail "docker/k8s/kustomization.yaml lists [$listed] but the folder holds [$present]"
echo "deployment files: valid"
