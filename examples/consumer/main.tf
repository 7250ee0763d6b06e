# The consumer side of bosky in Terraform: the same resources as bosky-consumer.yaml.
#   terraform init && terraform apply -var project=web-frontend -var notify_email=ops@example.com
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}

variable "project" {
  description = "The bosky project (the events' source), e.g. web-frontend."
  type        = string
}

variable "notify_email" {
  description = "Where the alerts go (confirm the subscription email once)."
  type        = string
}

variable "statuses" {
  description = "Which detail.Status values to alert on."
  type        = list(string)
  default     = ["fail"]
}

variable "custom_event_bus" {
  description = "Create and use this custom bus (set BOSKY_EVENT_BUS to it); empty: default bus."
  type        = string
  default     = ""
}

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  use_custom_bus = var.custom_event_bus != ""
  bus_name       = local.use_custom_bus ? aws_cloudwatch_event_bus.boot[0].name : "default"
  bus_arn = local.use_custom_bus ? aws_cloudwatch_event_bus.boot[0].arn : (
    "arn:${data.aws_partition.current.partition}:events:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:event-bus/default"
  )
}

resource "aws_cloudwatch_event_bus" "boot" {
  count = local.use_custom_bus ? 1 : 0
  name  = var.custom_event_bus
}

resource "aws_sns_topic" "alerts" {
  name = "bosky-${var.project}"
}

resource "aws_sns_topic_subscription" "email" {
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.notify_email
}

resource "aws_sns_topic_policy" "events_publish" {
  arn = aws_sns_topic.alerts.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EventBridgePublishes"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.alerts.arn
    }]
  })
}

resource "aws_cloudwatch_event_rule" "boot_events" {
  name           = "bosky-${var.project}"
  description    = "bosky events from ${var.project} with an alerting status"
  event_bus_name = local.bus_name
  event_pattern = jsonencode({
    source        = [var.project]
    "detail-type" = ["User Data"]
    detail        = { Status = var.statuses }
  })
}

resource "aws_cloudwatch_event_target" "email" {
  rule           = aws_cloudwatch_event_rule.boot_events.name
  event_bus_name = local.bus_name
  target_id      = "email"
  arn            = aws_sns_topic.alerts.arn
  input_transformer {
    input_paths = {
      status   = "$.detail.Status"
      message  = "$.detail.Message"
      instance = "$.detail.InstanceId"
      step     = "$.detail.Step"
      group    = "$.detail.AutoScalingGroup"
    }
    input_template = "\"bosky: <status> on <instance> (group <group>, step <step>): <message>\""
  }
}

resource "aws_iam_role" "instance" {
  name_prefix = "bosky-"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy" "bosky" {
  role = aws_iam_role.instance.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "BoskyPutEvents"
        Effect    = "Allow"
        Action    = "events:PutEvents"
        Resource  = local.bus_arn
        Condition = { StringEquals = { "events:source" = var.project } }
      },
      {
        Sid      = "BoskyLifecycleHooks"
        Effect   = "Allow"
        Action   = ["autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"]
        Resource = "*"
      },
    ]
  })
}

resource "aws_iam_instance_profile" "instance" {
  name_prefix = "bosky-"
  role        = aws_iam_role.instance.name
}

output "instance_profile" { value = aws_iam_instance_profile.instance.name }
output "event_bus" { value = local.bus_name }
output "topic_arn" { value = aws_sns_topic.alerts.arn }
