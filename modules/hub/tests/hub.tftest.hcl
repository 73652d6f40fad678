# Offline tests of the hub module: the mock provider needs no credentials.
# Mocked computed strings are random, but the provider validates ARN
# arguments, so resources that feed an ARN argument get realistic defaults.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/events/fanin-findings"
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

  mock_resource "aws_cloudwatch_event_bus_policy" {
    defaults = {
      id = "fanin-intake"
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

# The findings queue has an ARN of its own (the mock's default is the
# dead-letter queue's).
override_resource {
  target = aws_sqs_queue.findings[0]
  values = {
    arn = "arn:aws:sqs:eu-west-1:111111111111:fanin-findings"
    id  = "https://sqs.eu-west-1.amazonaws.com/111111111111/fanin-findings"
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
    condition = jsondecode(aws_cloudwatch_event_rule.finding["local"].event_pattern) == {
      "source"      = ["aws.access-analyzer"]
      "detail-type" = ["Access Analyzer Finding"]
      "detail"      = { "isDeleted" = [false] }
    }
    error_message = "The event pattern must match exactly the non-deleted Access Analyzer findings."
  }

  assert {
    condition     = keys(aws_cloudwatch_event_rule.finding) == ["intake", "local"] && aws_cloudwatch_event_rule.finding["intake"].event_pattern == aws_cloudwatch_event_rule.finding["local"].event_pattern
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
    condition     = length(aws_cloudwatch_event_bus_policy.intake) == 1 && aws_cloudwatch_event_bus_policy.intake[0].event_bus_name == "fanin-intake"
    error_message = "The intake bus must have exactly one resource policy, on the intake bus."
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_bus_policy.intake[0].policy) == {
      Version = "2012-10-17"
      Statement = [{
        Sid       = "MemberAccountsPutEvents"
        Effect    = "Allow"
        Principal = { AWS = ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"] }
        Action    = "events:PutEvents"
        Resource  = "arn:aws:events:eu-west-1:111111111111:event-bus/fanin-intake"
      }]
    }
    error_message = "The bus policy must let exactly the members, all in one statement, put events on the intake bus, and nothing else."
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
    condition = jsondecode(aws_sns_topic_policy.findings.policy) == {
      Version = "2012-10-17"
      Statement = [{
        Sid       = "EventBridgePublishes"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.findings.arn
      }]
    }
    error_message = "The topic policy must allow only EventBridge to sns:Publish on the topic, with no Condition (AWS: \"You can't use Condition blocks in Amazon SNS topic policies for EventBridge\")."
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
    condition = (
      aws_cloudwatch_event_bus_policy.intake[0].event_bus_name == "default"
      && jsondecode(aws_cloudwatch_event_bus_policy.intake[0].policy).Statement[0].Resource == "arn:aws:events:eu-west-1:111111111111:event-bus/default"
    )
    error_message = "The member policy must be on the default bus when it is the intake bus."
  }

  assert {
    condition     = jsondecode(aws_sqs_queue_policy.dead_letter[0].policy).Statement[0].Condition.ArnEquals["aws:SourceArn"] == [aws_cloudwatch_event_rule.finding["local"].arn]
    error_message = "Only the single finding rule may send to the dead-letter queue."
  }
}

run "additional_intake_buses" {
  command = apply

  variables {
    additional_intake_buses = {
      "2" = ["444444444444"]
      "3" = ["555555555555", "666666666666"]
      "4" = []
    }
  }

  override_resource {
    target = aws_cloudwatch_event_bus.additional_intake["2"]
    values = {
      arn = "arn:aws:events:eu-west-1:111111111111:event-bus/fanin-intake-2"
    }
  }

  override_resource {
    target = aws_cloudwatch_event_bus.additional_intake["3"]
    values = {
      arn = "arn:aws:events:eu-west-1:111111111111:event-bus/fanin-intake-3"
    }
  }

  override_resource {
    target = aws_cloudwatch_event_rule.finding["intake-2"]
    values = {
      arn = "arn:aws:events:eu-west-1:111111111111:rule/fanin-intake-2/fanin-intake-2-findings"
    }
  }

  override_resource {
    target = aws_cloudwatch_event_rule.finding["intake-3"]
    values = {
      arn = "arn:aws:events:eu-west-1:111111111111:rule/fanin-intake-3/fanin-intake-3-findings"
    }
  }

  override_resource {
    target = aws_cloudwatch_event_rule.finding["intake-4"]
    values = {
      arn = "arn:aws:events:eu-west-1:111111111111:rule/fanin-intake-4/fanin-intake-4-findings"
    }
  }

  assert {
    condition     = { for number, bus in aws_cloudwatch_event_bus.additional_intake : number => bus.name } == { "2" = "fanin-intake-2", "3" = "fanin-intake-3", "4" = "fanin-intake-4" }
    error_message = "Each additional intake bus must be named <name_prefix>-intake-<number>."
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_bus_policy.additional_intake["3"].policy) == {
      Version = "2012-10-17"
      Statement = [{
        Sid       = "MemberAccountsPutEvents"
        Effect    = "Allow"
        Principal = { AWS = ["arn:aws:iam::555555555555:root", "arn:aws:iam::666666666666:root"] }
        Action    = "events:PutEvents"
        Resource  = "arn:aws:events:eu-west-1:111111111111:event-bus/fanin-intake-3"
      }]
    }
    error_message = "An additional bus's policy must let exactly its own members put events on it."
  }

  assert {
    condition     = keys(aws_cloudwatch_event_bus_policy.additional_intake) == ["2", "3"]
    error_message = "A bus without members must have no policy."
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_bus_policy.intake[0].policy).Statement[0].Principal.AWS == ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]
    error_message = "The first bus's policy must list member_account_ids only."
  }

  assert {
    condition = {
      for key, rule in aws_cloudwatch_event_rule.finding : key => rule.event_bus_name
    } == { intake = "fanin-intake", "intake-2" = "fanin-intake-2", "intake-3" = "fanin-intake-3", "intake-4" = "fanin-intake-4", local = "default" }
    error_message = "Every intake bus must have a finding rule."
  }

  assert {
    condition     = length(aws_cloudwatch_event_target.findings_topic) == 5 && alltrue([for target in aws_cloudwatch_event_target.findings_topic : target.arn == aws_sns_topic.findings.arn])
    error_message = "Every finding rule must send to the topic."
  }

  assert {
    condition     = toset(jsondecode(aws_sqs_queue_policy.dead_letter[0].policy).Statement[0].Condition.ArnEquals["aws:SourceArn"]) == toset([for rule in aws_cloudwatch_event_rule.finding : rule.arn]) && length(jsondecode(aws_sqs_queue_policy.dead_letter[0].policy).Statement[0].Condition.ArnEquals["aws:SourceArn"]) == 5
    error_message = "The dead-letter queue must accept the failures of every finding rule, and of those only."
  }

  assert {
    condition     = output.additional_intake_bus_arns == { "2" = "arn:aws:events:eu-west-1:111111111111:event-bus/fanin-intake-2", "3" = "arn:aws:events:eu-west-1:111111111111:event-bus/fanin-intake-3", "4" = aws_cloudwatch_event_bus.additional_intake["4"].arn }
    error_message = "additional_intake_bus_arns must map each bus number to its ARN."
  }
}

run "rejects_a_member_on_two_buses" {
  command = plan

  variables {
    additional_intake_buses = { "2" = ["222222222222"] }
  }

  expect_failures = [var.additional_intake_buses]
}

run "rejects_bus_number_one" {
  command = plan

  variables {
    additional_intake_buses = { "1" = ["444444444444"] }
  }

  expect_failures = [var.additional_intake_buses]
}

run "rejects_bad_additional_member" {
  command = plan

  variables {
    additional_intake_buses = { "2" = ["4444"] }
  }

  expect_failures = [var.additional_intake_buses]
}

run "no_members_no_emails_no_analyzer" {
  command = apply

  variables {
    member_account_ids  = []
    notification_emails = []
    create_analyzer     = false
  }

  assert {
    condition     = length(aws_cloudwatch_event_bus_policy.intake) == 0
    error_message = "No bus policy may exist without members."
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
        Sid       = "EventBridgePublishesToEncryptedTopic"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = ["kms:GenerateDataKey*", "kms:Decrypt"]
        Resource  = "*"
    }]
    error_message = "EventBridge's key statement must be the SNS developer guide's, exactly: no other statement for it."
  }

  assert {
    condition = alltrue([
      for statement in jsondecode(aws_kms_key.hub[0].policy).Statement :
      !can(statement.Condition) if statement.Principal == { Service = "events.amazonaws.com" }
    ])
    error_message = "The key may carry no condition for EventBridge: AWS does not support aws:SourceAccount, aws:SourceArn or aws:SourceOrgID there for EventBridge-to-encrypted topics."
  }

  assert {
    condition = [
      for statement in jsondecode(aws_kms_key.hub[0].policy).Statement : statement
      if statement.Principal != { Service = "events.amazonaws.com" }
      ] == [{
        Sid       = "AccountAdministersKey"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::111111111111:root" }
        Action    = "kms:*"
        Resource  = "*"
    }]
    error_message = "The key policy may name only the account itself and EventBridge."
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
    condition     = aws_sqs_queue.dead_letter[0].sqs_managed_sse_enabled == true && aws_sqs_queue.dead_letter[0].kms_master_key_id == null
    error_message = "The dead-letter queue must be encrypted with SQS-managed keys (SSE-SQS) by default, not with the hub's key."
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

run "dead_letter_queue_with_the_hub_key" {
  command = apply

  variables {
    dead_letter_queue_encryption = "sse-kms"
  }

  assert {
    # sqs_managed_sse_enabled is left to the provider (computed): the queue's key decides.
    condition     = aws_sqs_queue.dead_letter[0].kms_master_key_id == aws_kms_key.hub[0].arn
    error_message = "With sse-kms the dead-letter queue must be encrypted with the hub's key."
  }

  assert {
    condition = [
      for statement in jsondecode(aws_kms_key.hub[0].policy).Statement : statement
      if statement.Principal == { Service = "events.amazonaws.com" }
      ] == [
      {
        Sid       = "EventBridgePublishesToEncryptedTopic"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = ["kms:GenerateDataKey*", "kms:Decrypt"]
        Resource  = "*"
      },
      {
        Sid       = "EventBridgeSendsToEncryptedQueue"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
      },
    ]
    error_message = "The key must carry the SNS guide's statement for the topic and the SQS guide's for the queue, without conditions."
  }
}

run "key_for_the_queue_alone" {
  command = apply

  variables {
    encrypt_topic                = false
    dead_letter_queue_encryption = "sse-kms"
  }

  assert {
    condition = (
      aws_sns_topic.findings.kms_master_key_id == null
      && aws_sqs_queue.dead_letter[0].kms_master_key_id == aws_kms_key.hub[0].arn
      && [for statement in jsondecode(aws_kms_key.hub[0].policy).Statement : statement.Sid] == ["AccountAdministersKey", "EventBridgeSendsToEncryptedQueue"]
      && aws_kms_key.hub[0].description == "Encrypts the fanin findings topic's dead-letter queue."
    )
    error_message = "A key that encrypts only the queue must grant EventBridge only the queue's statement."
  }
}

run "findings_queue_gets_every_finding" {
  command = apply

  variables {
    findings_queue = true
  }

  assert {
    condition = (
      aws_sqs_queue.findings[0].name == "fanin-findings"
      && aws_sqs_queue.findings[0].message_retention_seconds == 1209600
      && aws_sqs_queue.findings[0].sqs_managed_sse_enabled == true
      && aws_sqs_queue.findings[0].kms_master_key_id == null
    )
    error_message = "The findings queue keeps 14 days of findings, encrypted with SQS-managed keys by default."
  }

  assert {
    condition = jsondecode(aws_sqs_queue_policy.findings[0].policy).Statement == [{
      Sid       = "FindingRulesSend"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = "arn:aws:sqs:eu-west-1:111111111111:fanin-findings"
      Condition = { ArnEquals = { "aws:SourceArn" = [
        "arn:aws:events:eu-west-1:111111111111:rule/fanin-intake/fanin-intake-findings",
        "arn:aws:events:eu-west-1:111111111111:rule/fanin-local-findings",
      ] } }
    }]
    error_message = "Only the finding rules may send to the findings queue."
  }

  assert {
    condition = (
      [for key, target in aws_cloudwatch_event_target.findings_queue : key] == ["intake", "local"]
      && alltrue([
        for key, target in aws_cloudwatch_event_target.findings_queue :
        target.rule == aws_cloudwatch_event_rule.finding[key].name
        && target.event_bus_name == aws_cloudwatch_event_rule.finding[key].event_bus_name
        && target.target_id == "findings-queue"
        && target.arn == "arn:aws:sqs:eu-west-1:111111111111:fanin-findings"
        && length(target.input_transformer) == 0
        && length(target.retry_policy) == 1 && target.retry_policy[0].maximum_retry_attempts == 185
        && length(target.dead_letter_config) == 1 && target.dead_letter_config[0].arn == aws_sqs_queue.dead_letter[0].arn
      ])
    )
    error_message = "Every finding rule must send the event unchanged to the queue, retrying, failures in the dead-letter queue."
  }

  assert {
    condition = (
      [for statement in jsondecode(aws_kms_key.hub[0].policy).Statement : statement.Sid] == ["AccountAdministersKey", "EventBridgePublishesToEncryptedTopic"]
      && output.findings_queue_url == "https://sqs.eu-west-1.amazonaws.com/111111111111/fanin-findings"
      && output.findings_queue_arn == "arn:aws:sqs:eu-west-1:111111111111:fanin-findings"
    )
    error_message = "An SSE-SQS findings queue adds nothing to the key; the outputs name the queue."
  }
}

run "findings_queue_with_the_hub_key" {
  command = apply

  variables {
    findings_queue               = true
    encrypt_topic                = false
    dead_letter_queue            = false
    dead_letter_queue_encryption = "sse-kms"
  }

  assert {
    condition = (
      aws_sqs_queue.findings[0].kms_master_key_id == aws_kms_key.hub[0].arn
      && [for statement in jsondecode(aws_kms_key.hub[0].policy).Statement : statement.Sid] == ["AccountAdministersKey", "EventBridgeSendsToEncryptedQueue"]
      && aws_kms_key.hub[0].description == "Encrypts the fanin findings queue."
      && alltrue([for target in aws_cloudwatch_event_target.findings_queue : length(target.dead_letter_config) == 0])
    )
    error_message = "With sse-kms the findings queue uses the hub's key, whose policy then grants EventBridge the SQS guide's statement."
  }
}

run "a_line_of_text_for_people_when_asked" {
  command = apply

  variables {
    topic_message  = "text"
    findings_queue = true
  }

  assert {
    condition = alltrue([
      for target in aws_cloudwatch_event_target.findings_topic :
      length(target.input_transformer) == 1
      && target.input_transformer[0].input_template == "IAM Access Analyzer finding in account <account>, <region>: <resourceType> <resource> can be reached by <principal> with <action>. Status <status>, finding <id>: see Access analyzer in the IAM console of that account and region (https://console.aws.amazon.com/iam/)."
      && target.input_transformer[0].input_paths == tomap({
        account      = "$.detail.accountId"
        region       = "$.region"
        resourceType = "$.detail.resourceType"
        resource     = "$.detail.resource"
        principal    = "$.detail.principal"
        action       = "$.detail.action"
        status       = "$.detail.status"
        id           = "$.detail.id"
      })
    ])
    error_message = "With topic_message = \"text\", every topic target sends the line for people."
  }

  assert {
    condition     = alltrue([for target in aws_cloudwatch_event_target.findings_queue : length(target.input_transformer) == 0])
    error_message = "The findings queue keeps the event itself."
  }
}

run "rejects_an_unknown_topic_message" {
  command = plan

  variables {
    topic_message = "html"
  }

  expect_failures = [var.topic_message]
}

run "rejects_unknown_dead_letter_queue_encryption" {
  command = plan

  variables {
    dead_letter_queue_encryption = "aws-managed"
  }

  expect_failures = [var.dead_letter_queue_encryption]
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

run "no_key_when_nothing_needs_one" {
  command = apply

  variables {
    encrypt_topic = false
  }

  assert {
    condition     = length(aws_kms_key.hub) == 0 && output.kms_key_arn == null && aws_sqs_queue.dead_letter[0].sqs_managed_sse_enabled == true
    error_message = "An unencrypted topic with an SSE-SQS dead-letter queue needs no key."
  }

  assert {
    condition     = length(aws_sqs_queue.findings) == 0 && length(aws_cloudwatch_event_target.findings_queue) == 0 && output.findings_queue_url == null
    error_message = "There is no findings queue unless findings_queue asks for one."
  }

  assert {
    condition     = alltrue([for target in aws_cloudwatch_event_target.findings_topic : length(target.input_transformer) == 0])
    error_message = "By default the topic gets the event itself."
  }
}

run "archives_expected_findings_and_forwards_the_statuses_asked_for" {
  command = apply

  variables {
    finding_statuses = ["ACTIVE", "RESOLVED"]
    archive_rules = {
      "known-partner" = {
        "principal.AWS" = { eq = ["333333333333"] }
        "isPublic"      = { exists = false }
      }
    }
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.finding["local"].event_pattern) == {
      "source"      = ["aws.access-analyzer"]
      "detail-type" = ["Access Analyzer Finding"]
      "detail"      = { "isDeleted" = [false], "status" = ["ACTIVE", "RESOLVED"] }
    }
    error_message = "The event pattern must add exactly the statuses asked for."
  }

  assert {
    condition     = aws_accessanalyzer_archive_rule.inventory["known-partner"].analyzer_name == aws_accessanalyzer_analyzer.account[0].analyzer_name
    error_message = "The archive rule must belong to the analyzer the module creates."
  }

  assert {
    condition = (
      toset([for f in aws_accessanalyzer_archive_rule.inventory["known-partner"].filter : f.criteria]) == toset(["principal.AWS", "isPublic"])
      && one([for f in aws_accessanalyzer_archive_rule.inventory["known-partner"].filter : f.eq if f.criteria == "principal.AWS"]) == tolist(["333333333333"])
      && one([for f in aws_accessanalyzer_archive_rule.inventory["known-partner"].filter : f.exists if f.criteria == "isPublic"]) == "false"
    )
    error_message = "The archive rule's filter must be exactly the criteria given."
  }
}

run "no_archive_rule_without_the_analyzer" {
  command = plan

  variables {
    create_analyzer = false
    archive_rules = {
      "known-partner" = { "principal.AWS" = { eq = ["333333333333"] } }
    }
  }

  assert {
    condition     = length(aws_accessanalyzer_archive_rule.inventory) == 0
    error_message = "Archive rules belong to the analyzer the module creates, and there is none."
  }
}

run "refuses_an_unknown_status" {
  command = plan

  variables {
    finding_statuses = ["NEW"]
  }

  expect_failures = [var.finding_statuses]
}

run "a_rule_per_bus_and_source_each_with_its_filter_and_text" {
  command = apply

  variables {
    finding_sources               = ["external-access", "unused-access", "guardduty", "security-hub"]
    finding_min_severity          = "CRITICAL"
    finding_statuses              = ["ACTIVE"]
    additional_intake_buses       = { "2" = ["444444444444"] }
    topic_message                 = "text"
    findings_queue                = true
    create_unused_access_analyzer = true
  }

  assert {
    condition     = aws_accessanalyzer_analyzer.unused_access[0].analyzer_name == "fanin-unused-access" && aws_accessanalyzer_analyzer.unused_access[0].type == "ACCOUNT_UNUSED_ACCESS"
    error_message = "The hub must create its unused access analyzer when asked."
  }

  assert {
    condition = toset(keys(aws_cloudwatch_event_rule.finding)) == toset([
      "local", "local-unused-access", "local-guardduty", "local-security-hub",
      "intake", "intake-unused-access", "intake-guardduty", "intake-security-hub",
      "intake-2", "intake-2-unused-access", "intake-2-guardduty", "intake-2-security-hub",
    ])
    error_message = "Every bus needs a rule per source; external access keeps the bus's key."
  }

  assert {
    condition = (
      aws_cloudwatch_event_rule.finding["intake-2-guardduty"].event_bus_name == "fanin-intake-2"
      && aws_cloudwatch_event_rule.finding["intake-2-guardduty"].name == "fanin-intake-2-guardduty-findings"
      && jsondecode(aws_cloudwatch_event_rule.finding["intake-2-guardduty"].event_pattern) == {
        "source"      = ["aws.guardduty"]
        "detail-type" = ["GuardDuty Finding"]
        "detail"      = { "severity" = [{ "numeric" = [">=", 9] }] }
      }
    )
    error_message = "The GuardDuty rule of bus 2 must be on bus 2 and forward CRITICAL findings only."
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.finding["local-unused-access"].event_pattern) == {
      "source"      = ["aws.access-analyzer"]
      "detail-type" = ["Unused Access Finding for IAM entities"]
      "detail"      = { "isDeleted" = [false], "status" = ["ACTIVE"] }
    }
    error_message = "Unused access findings must be filtered by status like external access ones."
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.finding["local-security-hub"].event_pattern) == {
      "source"      = ["aws.securityhub"]
      "detail-type" = ["Security Hub Findings - Imported"]
      "detail"      = { "findings" = { "Severity" = { "Label" = ["CRITICAL"] } } }
    }
    error_message = "The Security Hub rule must forward CRITICAL findings only."
  }

  assert {
    condition = (
      startswith(aws_cloudwatch_event_target.findings_topic["intake-guardduty"].input_transformer[0].input_template, "GuardDuty finding in account <account>, <region>: <title> (<type>, severity <severity>).")
      && aws_cloudwatch_event_target.findings_topic["intake-guardduty"].input_transformer[0].input_paths["id"] == "$.detail.id"
      && aws_cloudwatch_event_target.findings_topic["local-unused-access"].input_transformer[0].input_paths["id"] == "$.detail.findingId"
      && startswith(aws_cloudwatch_event_target.findings_topic["intake"].input_transformer[0].input_template, "IAM Access Analyzer finding in account")
    )
    error_message = "Each source's topic target must send that source's line."
  }

  assert {
    condition     = length(aws_cloudwatch_event_target.findings_queue) == 12 && length(jsondecode(aws_sqs_queue_policy.findings[0].policy).Statement[0].Condition.ArnEquals["aws:SourceArn"]) == 12
    error_message = "The findings queue must take every rule's findings, and only theirs."
  }

  assert {
    condition     = length(jsondecode(aws_sqs_queue_policy.dead_letter[0].policy).Statement[0].Condition.ArnEquals["aws:SourceArn"]) == 12
    error_message = "The dead-letter queue must take every rule's failures."
  }
}

run "a_rule_per_bus_for_each_custom_pattern_sending_the_event" {
  command = apply

  variables {
    custom_event_patterns = {
      macie = "{\"source\": [\"aws.macie\"], \"detail-type\": [\"Macie Finding\"]}"
    }
    topic_message = "text"
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_event_rule.finding)) == toset(["local", "intake", "local-custom-macie", "intake-custom-macie"])
    error_message = "Every bus needs a rule per custom pattern."
  }

  assert {
    condition = (
      aws_cloudwatch_event_rule.finding["intake-custom-macie"].name == "fanin-intake-custom-macie-findings"
      && jsondecode(aws_cloudwatch_event_rule.finding["intake-custom-macie"].event_pattern) == { "source" = ["aws.macie"], "detail-type" = ["Macie Finding"] }
    )
    error_message = "A custom pattern's rule must match exactly the pattern given."
  }

  assert {
    condition     = length(aws_cloudwatch_event_target.findings_topic["local-custom-macie"].input_transformer) == 0 && length(aws_cloudwatch_event_target.findings_topic["local"].input_transformer) == 1
    error_message = "Custom patterns' events go to the topic as they are; the finding sources keep their lines."
  }
}

run "an_archive_per_bus_with_finding_rules_when_asked" {
  command = apply

  variables {
    archive_retention_days  = 90
    additional_intake_buses = { "2" = ["444444444444"] }
    finding_sources         = ["external-access", "guardduty"]
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_event_archive.findings)) == toset(["local", "intake", "intake-2"])
    error_message = "Every bus with finding rules needs its archive."
  }

  assert {
    condition = (
      aws_cloudwatch_event_archive.findings["intake-2"].name == "fanin-intake-2-findings"
      && aws_cloudwatch_event_archive.findings["intake-2"].event_source_arn == aws_cloudwatch_event_bus.additional_intake["2"].arn
      && aws_cloudwatch_event_archive.findings["intake-2"].event_pattern == null
      && aws_cloudwatch_event_archive.findings["intake-2"].retention_days == 90
    )
    error_message = "An intake bus's archive keeps every event members put on it, for the days asked."
  }

  assert {
    condition = (
      aws_cloudwatch_event_archive.findings["local"].event_source_arn == "arn:aws:events:eu-west-1:111111111111:event-bus/default"
      && jsondecode(aws_cloudwatch_event_archive.findings["local"].event_pattern) == {
        "source"      = ["aws.access-analyzer", "aws.guardduty"]
        "detail-type" = ["Access Analyzer Finding", "GuardDuty Finding"]
      }
    )
    error_message = "The default bus's archive keeps only the forwarded sources' events."
  }

  assert {
    condition     = output.archive_arns["intake"] == aws_cloudwatch_event_archive.findings["intake"].arn
    error_message = "The archives' ARNs must be output for replays."
  }
}

run "no_archive_by_default" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_event_archive.findings) == 0
    error_message = "Archives must be opt-in."
  }
}

run "refuses_a_fraction_of_a_day" {
  command = plan

  variables {
    archive_retention_days = 1.5
  }

  expect_failures = [var.archive_retention_days]
}

run "a_findings_log_group_encrypted_with_the_hub_key_when_asked" {
  command = apply

  variables {
    findings_log                = true
    findings_log_retention_days = 365
    encrypt_topic               = false
  }

  assert {
    condition = (
      aws_cloudwatch_log_group.findings[0].name == "/aws/events/fanin-findings"
      && aws_cloudwatch_log_group.findings[0].retention_in_days == 365
      && aws_cloudwatch_log_group.findings[0].kms_key_id == aws_kms_key.hub[0].arn
    )
    error_message = "The log group must be /aws/events/<prefix>-findings, kept the days asked, with the hub's key (which exists for it alone)."
  }

  assert {
    condition = jsondecode(aws_cloudwatch_log_resource_policy.findings[0].policy_document) == {
      Version = "2012-10-17"
      Statement = [{
        Sid       = "TrustEventsToStoreLogEvent"
        Effect    = "Allow"
        Principal = { Service = ["events.amazonaws.com", "delivery.logs.amazonaws.com"] }
        Action    = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource  = "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/events/fanin-findings:*"
      }]
    }
    error_message = "Only EventBridge may write, and only to this group."
  }

  assert {
    condition = one([for s in jsondecode(aws_kms_key.hub[0].policy).Statement : s if s.Sid == "CloudWatchLogsEncryptsFindingsLog"]) == {
      Sid       = "CloudWatchLogsEncryptsFindingsLog"
      Effect    = "Allow"
      Principal = { Service = "logs.eu-west-1.amazonaws.com" }
      Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
      Resource  = "*"
      Condition = { ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/events/fanin-findings" } }
    }
    error_message = "The key must let CloudWatch Logs of this region use it for this group only."
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_event_target.findings_log)) == toset(keys(aws_cloudwatch_event_rule.finding)) && alltrue([for t in aws_cloudwatch_event_target.findings_log : t.arn == aws_cloudwatch_log_group.findings[0].arn && length(t.input_transformer) == 0])
    error_message = "Every finding rule must also send the event itself to the log group."
  }

  assert {
    condition     = output.findings_log_group_name == "/aws/events/fanin-findings"
    error_message = "The group's name must be output."
  }
}

run "no_log_group_by_default" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_log_group.findings) == 0 && length(aws_cloudwatch_log_resource_policy.findings) == 0
    error_message = "The log group must be opt-in."
  }
}

run "refuses_a_retention_logs_does_not_offer" {
  command = plan

  variables {
    findings_log                = true
    findings_log_retention_days = 100
  }

  expect_failures = [var.findings_log_retention_days]
}
