#!/bin/bash
# User data that fetches its real bootstrap from a private bucket with nothing but the
# instance role: no AWS CLI, no password in the user data, every byte checked.
# The role needs s3:GetObject on the bucket (bosky --permissions --bucket my-boot-bucket).
set -euo pipefail
export BOSKY_PROJECT=web-frontend
curl -fsSL -o /usr/local/bin/bosky "https://YOUR-ARTIFACTS/bosky.pyz"
echo "EXPECTED_SHA256  /usr/local/bin/bosky" | sha256sum -c -
chmod +x /usr/local/bin/bosky
eval "$(bosky trap --on-exit)"

# Fetched to a temporary file beside the target and renamed into place only once
# complete and verified: never a partial script at /opt/bootstrap.sh.
bosky s3 cp s3://my-boot-bucket/web/bootstrap.sh /opt/bootstrap.sh --mode 0755
bosky run --name bootstrap -- /opt/bootstrap.sh
