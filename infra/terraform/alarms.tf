# Alarms (all notify the encrypted alarm topic).

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each = aws_lambda_function.this

  alarm_name          = "${var.name_prefix}-${each.key}-errors"
  alarm_description   = "${each.key} invocations failed"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "failed_events" {
  alarm_name          = "${var.name_prefix}-failed-events"
  alarm_description   = "Events that no function could process are waiting in the failure queue"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.failures.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "critical_findings" {
  alarm_name          = "${var.name_prefix}-critical-findings"
  alarm_description   = "The drift audit found critical findings (EMF metric vpcwarden/Findings, Severity=critical)"
  namespace           = "vpcwarden"
  metric_name         = "Findings"
  dimensions          = { Severity = "critical" }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}
