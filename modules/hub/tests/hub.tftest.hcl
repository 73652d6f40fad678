# Offline tests of the hub module: the mock provider needs no credentials.
# Mocked computed strings are random, but the provider validates ARN
# arguments, so resources that feed an ARN argument get realistic defaults.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:111111111111:fanin-findings-topic-dlq"
      id  = "https://sqs.eu-west-1.amazonaws.com/111111111111/fanin-findings-topic-dlq"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-west-1:111111111111:fanin-findings"
    }
  }

  mock_resource "aws_cloudwatch_event_bus" {
    defaults = {
      arn = "arn:aws:events:eu-west-1:111111111111:event-bus/fanin-intake"
    }
  }

  mock_resource "aws_cloudwatch_event_rule" {
    defaults = {
      arn = "arn:aws:events:eu-west-1:111111111111:rule/fanin-local-findings"
    }
  }

  mock_resource "aws_accessanalyzer_analyzer" {
    defaults = {
      arn = "arn:aws:access-analyzer:eu-west-1:111111111111:analyzer/fanin-account"
    }
  }
}

# Distinct ARNs per rule, for every run, so that policy conditions are checked
# against each rule rather than against one shared mocked value.
override_resource {
  target = aws_cloudwatch_event_rule.finding["intake"]
  values = {
    arn = "arn:aws:events:eu-west-1:111111111111:rule/fanin-intake/fanin-intake-findings"
  }
}

override_resource {
  target = aws_cloudwatch_event_rule.finding["local"]
  values = {
    arn = "arn:aws:events:eu-west-1:111111111111:rule/fanin-local-findings"
  }
}

variables {
  name_prefix         = "fanin"
  account_id          = "111111111111"
  region              = "eu-west-1"
  member_account_ids  = ["222222222222", "333333333333"]
  topic_name          = "fanin-findings"
  notification_emails = ["security@example.com", "oncall@example.com"]
}

run "dedicated_intake_bus_by_default" {
  command = apply


  assert {
    condition = jsondecode(local.finding_event_pattern) == {
      "source"      = ["aws.access-analyzer"]
      "detail-type" = ["Access Analyzer Finding"]
      "detail"      = { "isDeleted" = [false] }
    }
    error_message = "The event pattern must match exactly the non-deleted Access Analyzer findings."
  }

  assert {
    condition     = alltrue([for rule in aws_cloudwatch_event_rule.finding : rule.event_pattern == local.finding_event_pattern])
    error_message = "Every finding rule must use the finding event pattern."
  }

  assert {
    condition     = length(aws_cloudwatch_event_bus.intake) == 1 && aws_cloudwatch_event_bus.intake[0].name == "fanin-intake"
    error_message = "A dedicated intake bus named <name_prefix>-intake must exist by default."
  }

  assert {
    condition     = output.intake_bus_name == "fanin-intake" && output.intake_bus_arn == aws_cloudwatch_event_bus.intake[0].arn
    error_message = "The intake bus outputs must describe the dedicated bus."
  }

  assert {
    condition     = length(aws_cloudwatch_event_permission.member) == 2 && keys(aws_cloudwatch_event_permission.member) == ["222222222222", "333333333333"]
    error_message = "There must be exactly one bus permission per member account, keyed by account id."
  }

  assert {
    condition = alltrue([
      for id, permission in aws_cloudwatch_event_permission.member :
      permission.principal == id && permission.action == "events:PutEvents" && permission.event_bus_name == "fanin-intake"
    ])
    error_message = "Each permission must let exactly its member put events on the intake bus."
  }

  assert {
    condition = alltrue([
      for permission in aws_cloudwatch_event_permission.member :
      can(regex("^[a-zA-Z0-9_-]{1,64}$", permission.statement_id))
    ])
    error_message = "Statement ids must be 1-64 characters of [a-zA-Z0-9-_]."
  }

  assert {
    condition     = length(distinct([for permission in aws_cloudwatch_event_permission.member : permission.statement_id])) == 2
    error_message = "Statement ids must be unique per member."
  }

  assert {
    condition = {
      for key, rule in aws_cloudwatch_event_rule.finding : key => rule.event_bus_name
    } == { intake = "fanin-intake", local = "default" }
    error_message = "There must be one finding rule on the intake bus and one on the hub's default bus."
  }

  assert {
    condition = alltrue([
      for key, target in aws_cloudwatch_event_target.findings_topic :
      target.arn == aws_sns_topic.findings.arn
      && target.rule == aws_cloudwatch_event_rule.finding[key].name
      && target.event_bus_name == aws_cloudwatch_event_rule.finding[key].event_bus_name
    ]) && length(aws_cloudwatch_event_target.findings_topic) == 2
    error_message = "Each finding rule must have one target: the findings topic."
  }

  assert {
    condition     = length(jsondecode(aws_sns_topic_policy.findings.policy).Statement) == 1
    error_message = "The topic policy must hold only the EventBridge statement."
  }

  assert {
    condition     = jsondecode(aws_sns_topic_policy.findings.policy).Statement[0].Principal == { Service = "events.amazonaws.com" }
    error_message = "Only events.amazonaws.com may be granted in the topic policy."
  }

  assert {
    condition = (
      jsondecode(aws_sns_topic_policy.findings.policy).Statement[0].Effect == "Allow"
      && jsondecode(aws_sns_topic_policy.findings.policy).Statement[0].Action == "sns:Publish"
      && jsondecode(aws_sns_topic_policy.findings.policy).Statement[0].Resource == aws_sns_topic.findings.arn
    )
    error_message = "The topic policy must allow only sns:Publish on the findings topic."
  }

  assert {
    condition = jsondecode(aws_sns_topic_policy.findings.policy).Statement[0].Condition == {
      ArnEquals = {
        "aws:SourceArn" = [
          "arn:aws:events:eu-west-1:111111111111:rule/fanin-intake/fanin-intake-findings",
          "arn:aws:events:eu-west-1:111111111111:rule/fanin-local-findings",
        ]
      }
    }
    error_message = "Publishing must be restricted to the finding rules' ARNs, and to nothing else."
  }

  assert {
    condition     = output.finding_rule_arns == { for key, rule in aws_cloudwatch_event_rule.finding : key => rule.arn }
    error_message = "finding_rule_arns must map each rule key to its ARN."
  }

  assert {
    condition = (
      length(aws_sns_topic_subscription.email) == 2
      && toset(keys(aws_sns_topic_subscription.email)) == toset(["security@example.com", "oncall@example.com"])
      && alltrue([for email, subscription in aws_sns_topic_subscription.email : subscription.protocol == "email" && subscription.endpoint == email && subscription.topic_arn == aws_sns_topic.findings.arn])
    )
    error_message = "There must be one email subscription to the topic per address."
  }

  assert {
    condition     = aws_sns_topic.findings.name == "fanin-findings" && output.topic_arn == aws_sns_topic.findings.arn
    error_message = "The topic must be named after topic_name and exposed as topic_arn."
  }

  assert {
    condition     = length(aws_accessanalyzer_analyzer.account) == 1 && aws_accessanalyzer_analyzer.account[0].analyzer_name == "fanin-account" && aws_accessanalyzer_analyzer.account[0].type == "ACCOUNT"
    error_message = "An ACCOUNT analyzer named <name_prefix>-account must be created by default."
  }

  assert {
    condition     = output.analyzer_arn == aws_accessanalyzer_analyzer.account[0].arn
    error_message = "analyzer_arn must be the analyzer's ARN."
  }
}

run "default_bus_as_intake" {
  command = apply

  variables {
    use_default_bus = true
  }

  assert {
    condition     = length(aws_cloudwatch_event_bus.intake) == 0
    error_message = "No dedicated bus may be created when the default bus is the intake bus."
  }

  assert {
    condition     = output.intake_bus_name == "default" && output.intake_bus_arn == "arn:aws:events:eu-west-1:111111111111:event-bus/default"
    error_message = "The intake bus must be the hub's default bus."
  }

  assert {
    condition     = keys(aws_cloudwatch_event_rule.finding) == ["local"] && aws_cloudwatch_event_rule.finding["local"].event_bus_name == "default"
    error_message = "Only one finding rule may exist when the intake bus is the default bus, or findings would be sent twice."
  }

  assert {
    condition     = length(aws_cloudwatch_event_target.findings_topic) == 1
    error_message = "Only one target may exist when the intake bus is the default bus."
  }

  assert {
    condition     = alltrue([for permission in aws_cloudwatch_event_permission.member : permission.event_bus_name == "default"])
    error_message = "Member permissions must be on the default bus when it is the intake bus."
  }

  assert {
    condition     = jsondecode(aws_sns_topic_policy.findings.policy).Statement[0].Condition.ArnEquals["aws:SourceArn"] == [aws_cloudwatch_event_rule.finding["local"].arn]
    error_message = "Publishing must be restricted to the single finding rule."
  }
}

run "no_members_no_emails_no_analyzer" {
  command = apply

  variables {
    member_account_ids  = []
    notification_emails = []
    create_analyzer     = false
  }

  assert {
    condition     = length(aws_cloudwatch_event_permission.member) == 0
    error_message = "No bus permission may exist without members."
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 0
    error_message = "No subscription may exist without addresses."
  }

  assert {
    condition     = length(aws_accessanalyzer_analyzer.account) == 0 && output.analyzer_arn == null
    error_message = "create_analyzer = false must create no analyzer and output a null analyzer_arn."
  }
}

run "rejects_bad_account_id" {
  command = plan

  variables {
    account_id = "12345"
  }

  expect_failures = [var.account_id]
}

run "rejects_bad_member_account_id" {
  command = plan

  variables {
    member_account_ids = ["222222222222", "arn:aws:iam::333333333333:root"]
  }

  expect_failures = [var.member_account_ids]
}

run "rejects_bad_name_prefix" {
  command = plan

  variables {
    name_prefix = "Fanin_Prod"
  }

  expect_failures = [var.name_prefix]
}

run "rejects_bad_topic_name" {
  command = plan

  variables {
    topic_name = "findings.fifo"
  }

  expect_failures = [var.topic_name]
}

run "rejects_bad_email" {
  command = plan

  variables {
    notification_emails = ["not-an-address"]
  }

  expect_failures = [var.notification_emails]
}

run "rejects_bad_region" {
  command = plan

  variables {
    region = "Europe (Ireland)"
  }

  expect_failures = [var.region]
}

run "encrypts_and_keeps_undeliverable_findings" {
  command = apply


  assert {
    condition     = aws_sns_topic.findings.kms_master_key_id == aws_kms_key.hub[0].arn && aws_kms_key.hub[0].enable_key_rotation
    error_message = "The topic must be encrypted with the hub's rotating key by default."
  }

  assert {
    condition = [
      for statement in jsondecode(aws_kms_key.hub[0].policy).Statement : statement
      if statement.Principal == { Service = "events.amazonaws.com" }
      ] == [{
        Sid       = "FindingRulesEncrypt"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
        Condition = { ArnEquals = { "aws:SourceArn" = [
          "arn:aws:events:eu-west-1:111111111111:rule/fanin-intake/fanin-intake-findings",
          "arn:aws:events:eu-west-1:111111111111:rule/fanin-local-findings",
        ] } }
    }]
    error_message = "EventBridge may use the key only on behalf of the finding rules."
  }

  assert {
    condition = alltrue([
      for target in aws_cloudwatch_event_target.findings_topic :
      length(target.dead_letter_config) == 1 && target.dead_letter_config[0].arn == aws_sqs_queue.dead_letter[0].arn
      && length(target.retry_policy) == 1 && target.retry_policy[0].maximum_retry_attempts == 185
    ])
    error_message = "Every topic target must retry and then park failures in the dead-letter queue."
  }

  assert {
    condition     = aws_sqs_queue.dead_letter[0].kms_master_key_id == aws_kms_key.hub[0].arn
    error_message = "The dead-letter queue must be encrypted."
  }

  assert {
    condition = jsondecode(aws_sqs_queue_policy.dead_letter[0].policy).Statement == [{
      Sid       = "RuleDeadLetters"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.dead_letter[0].arn
      Condition = { ArnEquals = { "aws:SourceArn" = [
        "arn:aws:events:eu-west-1:111111111111:rule/fanin-intake/fanin-intake-findings",
        "arn:aws:events:eu-west-1:111111111111:rule/fanin-local-findings",
      ] } }
    }]
    error_message = "Only the finding rules may send to the dead-letter queue."
  }
}

run "plain_topic_without_dead_letters" {
  command = apply

  variables {
    encrypt_topic     = false
    dead_letter_queue = false
  }

  assert {
    condition = (
      aws_sns_topic.findings.kms_master_key_id == null
      && length(aws_kms_key.hub) == 0
      && length(aws_sqs_queue.dead_letter) == 0
      && alltrue([for target in aws_cloudwatch_event_target.findings_topic : length(target.dead_letter_config) == 0])
    )
    error_message = "With both options off there is no key, no queue and no dead-letter config."
  }
}
