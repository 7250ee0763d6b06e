#!/bin/sh
# Create the two lifecycle hooks bosky works with, on an existing Auto Scaling group.
# Usage: create-hooks.sh GROUP [LAUNCH_TEMPLATE_ID]
set -eu
group=${1:?usage: create-hooks.sh GROUP [LAUNCH_TEMPLATE_ID]}

# Launch: keep new instances out of service until user data says CONTINUE (or ABANDON).
# If user data never answers, the instance is abandoned after 15 minutes.
aws autoscaling put-lifecycle-hook --auto-scaling-group-name "$group" \
  --lifecycle-hook-name boot-gate \
  --lifecycle-transition autoscaling:EC2_INSTANCE_LAUNCHING \
  --heartbeat-timeout 900 --default-result ABANDON

# Termination: give `bosky watch` up to 10 minutes (more with heartbeats) to ship logs.
aws autoscaling put-lifecycle-hook --auto-scaling-group-name "$group" \
  --lifecycle-hook-name drain-logs \
  --lifecycle-transition autoscaling:EC2_INSTANCE_TERMINATING \
  --heartbeat-timeout 600 --default-result CONTINUE

# Let instances read their tags (bosky finds the group name there) and keep IMDSv2 required.
if [ -n "${2:-}" ]; then
  aws ec2 create-launch-template-version --launch-template-id "$2" --source-version '$Latest' \
    --launch-template-data '{"MetadataOptions":{"HttpTokens":"required","InstanceMetadataTags":"enabled"}}'
fi
