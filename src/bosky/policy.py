"""The IAM policy `bosky --permissions` prints: one statement per feature, scoped to the
bus, region, project (events:source), group and buckets (--bucket) bosky was told about.
SSE-KMS objects also need kms:Decrypt (reads) or kms:GenerateDataKey (writes) on their key."""

import json

from bosky import events
from bosky.aws import endpoints
from bosky.settings import DEFAULT_PROJECT


def event_bus_arn(event_bus, region):
    """The bus ARN a policy should name; wildcards where bosky cannot know the value."""
    if event_bus and events.EVENT_BUS_ARN.match(event_bus):
        return event_bus
    partition = endpoints.partition_for_region(region)[0] if region else "aws"
    return "arn:{}:events:{}:*:event-bus/{}".format(partition, region or "*",
                                                    event_bus or "default")


def autoscaling_group_arn(group, region):
    partition = endpoints.partition_for_region(region)[0] if region else "aws"
    return "arn:{}:autoscaling:{}:*:autoScalingGroup:*:autoScalingGroupName/{}".format(
        partition, region or "*", group or "*")


def permissions_policy(settings):
    """The IAM policy bosky's features need, as pretty JSON text: one statement each."""
    statement = {
        "Sid": "BoskyPutEvents",
        "Effect": "Allow",
        "Action": "events:PutEvents",
        "Resource": event_bus_arn(settings.event_bus, settings.region),
    }
    if settings.project != DEFAULT_PROJECT:
        # Lets the role send only this project's events (EventBridge condition key).
        statement["Condition"] = {"StringEquals": {"events:source": settings.project}}
    lifecycle = {
        "Sid": "BoskyLifecycleHooks",  # --complete-lifecycle, bosky lifecycle, bosky watch
        "Effect": "Allow",
        "Action": ["autoscaling:CompleteLifecycleAction",
                   "autoscaling:RecordLifecycleActionHeartbeat"],
        "Resource": autoscaling_group_arn(settings.group, settings.region),
    }
    statements = [statement, lifecycle]
    from bosky.aws import s3
    for bucket in settings.buckets:
        statements += bucket_statements(s3.check_bucket_name(bucket, "--bucket"),
                                        settings.region)
    policy = {"Version": "2012-10-17", "Statement": statements}
    return json.dumps(policy, indent=2)


def bucket_statements(bucket, region):
    """bosky s3 cp and bootstrap: objects in, objects out, failed uploads aborted; and
    ListBucket, without which S3 answers a missing key AccessDenied instead of NoSuchKey."""
    partition = endpoints.partition_for_region(region)[0] if region else "aws"
    sid = "".join(c for c in bucket.title() if c.isalnum())
    return [{"Sid": "BoskyS3Objects" + sid, "Effect": "Allow",
             "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
             "Resource": "arn:{}:s3:::{}/*".format(partition, bucket)},
            {"Sid": "BoskyS3MissingKeysSaySo" + sid, "Effect": "Allow",
             "Action": "s3:ListBucket", "Resource": "arn:{}:s3:::{}".format(partition, bucket)}]
