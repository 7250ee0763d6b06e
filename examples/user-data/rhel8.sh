#!/bin/bash
# RHEL 8: /usr/bin/python3 may be absent; the platform Python (3.6) always is.
# Call bosky through it, and let the trap do the same (bosky trap embeds the
# interpreter it was started with).
set -euo pipefail
export BOSKY_PROJECT=web-frontend
BOSKY="/usr/libexec/platform-python /usr/local/bin/bosky"
curl -fsSL -o /usr/local/bin/bosky "https://YOUR-ARTIFACTS/bosky.pyz"
echo "EXPECTED_SHA256  /usr/local/bin/bosky" | sha256sum -c -
eval "$($BOSKY trap --on-exit)"

$BOSKY run --name packages -- dnf install -y nginx
$BOSKY run --name start -- systemctl enable --now nginx
