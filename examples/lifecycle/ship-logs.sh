#!/bin/sh
# Run by `bosky watch --on-terminate` before the instance is terminated: upload the
# logs that would otherwise be lost, with bosky itself (no AWS CLI on the instance).
# bosky reports this script's exit status and last output, heartbeats the hook while it
# runs, then completes the hook with CONTINUE.  The role needs s3:PutObject on the
# bucket: `bosky --permissions --bucket my-instance-logs` prints the statements.
set -eu
bucket=${LOG_BUCKET:-my-instance-logs}
instance=$(cat /var/lib/cloud/data/instance-id 2>/dev/null || hostname)
archive=/tmp/logs-$instance.tar.gz
tar -czf "$archive" /var/log/cloud-init-output.log /var/log/messages /var/log/app 2>/dev/null || true
bosky s3 cp "$archive" "s3://$bucket/terminated/$instance.tar.gz"
bosky s3 cp /var/log/messages "s3://$bucket/terminated/$instance/messages"
