#!/bin/bash
# User data that keeps the instance out of service until it really works:
# every step is reported, and the boot-gate launch hook is completed with
# CONTINUE when all steps pass, ABANDON (the instance is replaced) when one fails.
set -euo pipefail
export BOSKY_PROJECT=web-frontend
curl -fsSL -o /usr/local/bin/bosky "https://YOUR-ARTIFACTS/bosky.pyz"
chmod +x /usr/local/bin/bosky

# Numbered step scripts baked into the AMI or fetched here: 10-packages, 20-config, ...
bosky run-parts --complete-lifecycle boot-gate /opt/bootstrap

# The termination side: ship logs before the instance goes (see ship-logs.sh).
install -m 0755 /opt/bootstrap-extras/ship-logs.sh /usr/local/bin/ship-logs
cp /opt/bootstrap-extras/bosky-watch.service /etc/systemd/system/
systemctl daemon-reload && systemctl enable --now bosky-watch.service
