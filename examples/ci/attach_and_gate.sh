#!/usr/bin/env bash
# Attach the licensor's grant to every audio asset, then fail the build unless every asset
# carries a valid grant for the uses the product needs.
#
# Credentials come from the environment only, as a CI secret store provides them:
#   PROVSDK_SIGNING_KEY, PROVSDK_SIGNING_CERT  the producer key and chain (PEM text or paths)
#   PROVSDK_HOME                               a folder holding trust/<role>.pem anchors
#   PROVSDK_TSA_URL (optional)                 an RFC 3161 time-stamp authority for the manifests
# provsdk is not on PyPI: pip install "provsdk @ git+https://github.com/provsdk/provsdk@v0.1.0"
# Usage: attach_and_gate.sh ASSETS_DIR GRANT.jws POLICY.toml REPORT.xml
set -euo pipefail
assets=$1 grant=$2 policy=$3 report=$4

# CI passes an unset variable as an empty one: treat it as no time-stamp authority.
if [ -z "${PROVSDK_TSA_URL:-}" ]; then
  unset PROVSDK_TSA_URL
fi

provsdk grant attach "$assets" --grant "$grant" --in-place
provsdk verify --policy "$policy" --junit "$report" "$assets"
