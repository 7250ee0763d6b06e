#!/bin/bash
# The start-up bundle, in one line: fetched from a private bucket with the instance role
# (no password in this user data, no AWS CLI), checked before a byte is unpacked, unpacked
# safely, and each module directory holding start.sh run and reported as its own step.
# The role needs s3:GetObject on the bundle and events:PutEvents
# (bosky --permissions --bucket my-boot-bucket prints both).
set -euo pipefail
export BOSKY_PROJECT=web-frontend
curl -fsSL -o /usr/local/bin/bosky "https://YOUR-ARTIFACTS/bosky.pyz"
echo "EXPECTED_SHA256  /usr/local/bin/bosky" | sha256sum -c -
chmod +x /usr/local/bin/bosky

# This user data is a script, so its variables come from --var: the modules see
# $environment and $role, and every event carries them as Vars.
bosky bootstrap s3://my-boot-bucket/bundles/web.tar.gz --var environment=prod --var role=web
