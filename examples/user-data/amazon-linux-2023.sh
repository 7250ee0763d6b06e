#!/bin/bash
# Amazon Linux 2023: python3 (3.9) is installed; IMDSv2 is required by default.
set -euo pipefail
export BOSKY_PROJECT=web-frontend
curl -fsSL -o /usr/local/bin/bosky "https://YOUR-ARTIFACTS/bosky.pyz"
echo "EXPECTED_SHA256  /usr/local/bin/bosky" | sha256sum -c -   # from bosky.pyz.sha256
chmod +x /usr/local/bin/bosky
eval "$(bosky trap --on-exit)"

bosky run --name packages -- dnf install -y nginx
bosky run --name start -- systemctl enable --now nginx
