#!/bin/bash
# Ubuntu 20.04-24.04: python3 is installed (3.8-3.12); there is no unversioned python.
set -euo pipefail
export BOSKY_PROJECT=web-frontend
curl -fsSL -o /usr/local/bin/bosky "https://YOUR-ARTIFACTS/bosky.pyz"
echo "EXPECTED_SHA256  /usr/local/bin/bosky" | sha256sum -c -
chmod +x /usr/local/bin/bosky
eval "$(bosky trap --on-exit)"

export DEBIAN_FRONTEND=noninteractive
bosky run --name apt-update -- apt-get update -q
bosky run --name packages -- apt-get install -y -q nginx
