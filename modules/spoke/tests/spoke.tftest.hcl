# Offline tests of the spoke module: the mock provider needs no credentials.
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
      arn = "arn:aws:sqs:eu-central-1:222222222222:fanin-to-hub-dlq"
      id  = "https://sqs.eu-central-1.amazonaws.com/222222222222/fanin-to-hub-dlq"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-central-1:222222222222:key/00000000-0000-0000-0000-000000000000"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::222222222222:role/fanin-to-hub-eu-central-1"
    }
  }

  mock_resource "aws_cloudwatch_event_rule" {
    defaults = {
      arn = "arn:aws:events:eu-central-1:222222222222:rule/fanin-findings-to-hub"
    }
  }

  mock_resource "aws_accessanalyzer_analyzer" {
    defaults = {
      arn = "arn:aws:access-analyzer:eu-central-1:222222222222:analyzer/fanin-account"
    }
  }
}

variables {
  name_prefix = "fanin"
  account_id  = "222222222222"
  region      = "eu-central-1"
  hub_bus_arn = "arn:aws:events:eu-west-1:111111111111:event-bus/fanin-intake"
}

run "forwards_findings_to_hub" {
  command = apply

  assert {
    condition     = length(aws_accessanalyzer_analyzer.unused_access) == 0
    error_message = "The paid unused access analyzer must not be created unless asked for."
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.finding.event_pattern) == {
      "source"      = ["aws.access-analyzer"]
      "detail-type" = ["Access Analyzer Finding"]
      "detail"      = { "isDeleted" = [false] }
    }
    error_message = "The event pattern must match exactly the non-deleted Access Analyzer findings."
  }

  assert {
    condition     = aws_cloudwatch_event_rule.finding.event_bus_name == "default"
    error_message = "The rule must be on the default bus, where Access Analyzer publishes."
  }

  assert {
    condition = (
      aws_cloudwatch_event_target.hub_bus.arn == "arn:aws:events:eu-west-1:111111111111:event-bus/fanin-intake"
      && aws_cloudwatch_event_target.hub_bus.rule == aws_cloudwatch_event_rule.finding.name
      && aws_cloudwatch_event_target.hub_bus.event_bus_name == "default"
      && aws_cloudwatch_event_target.hub_bus.role_arn == aws_iam_role.forward_to_hub.arn
    )
    error_message = "The rule's target must be the hub bus, delivered with the forwarding role."
  }

  assert {
    condition     = aws_iam_role.forward_to_hub.name == "fanin-to-hub-eu-central-1" && length(aws_iam_role.forward_to_hub.name) <= 64
    error_message = "The role name must include the region (IAM is global) and fit in 64 characters."
  }

  assert {
    condition = jsondecode(aws_iam_role.forward_to_hub.assume_role_policy) == {
      Version = "2012-10-17"
      Statement = [
        {
          Effect    = "Allow"
          Principal = { Service = "events.amazonaws.com" }
          Action    = "sts:AssumeRole"
          Condition = {
            StringEquals = { "aws:SourceAccount" = "222222222222" }
            ArnEquals    = { "aws:SourceArn" = "arn:aws:events:eu-central-1:222222222222:rule/fanin-findings-to-hub" }
          }
        },
      ]
    }
    error_message = "Only events.amazonaws.com acting for this account's forwarding rule may assume the role."
  }

  assert {
    condition     = length(jsondecode(aws_iam_role_policy.put_events_on_hub_bus.policy).Statement) == 1
    error_message = "The role policy must hold exactly one statement."
  }

  assert {
    condition = jsondecode(aws_iam_role_policy.put_events_on_hub_bus.policy).Statement[0] == {
      Effect   = "Allow"
      Action   = "events:PutEvents"
      Resource = "arn:aws:events:eu-west-1:111111111111:event-bus/fanin-intake"
    }
    error_message = "The role may only put events, and only on the hub bus."
  }

  assert {
    condition     = aws_iam_role_policy.put_events_on_hub_bus.role == aws_iam_role.forward_to_hub.id
    error_message = "The policy must be attached to the forwarding role."
  }

  assert {
    condition     = length(aws_accessanalyzer_analyzer.account) == 1 && aws_accessanalyzer_analyzer.account[0].analyzer_name == "fanin-account" && aws_accessanalyzer_analyzer.account[0].type == "ACCOUNT"
    error_message = "An ACCOUNT analyzer named <name_prefix>-account must be created by default."
  }

  assert {
    condition = (
      output.rule_arn == aws_cloudwatch_event_rule.finding.arn
      && output.role_arn == aws_iam_role.forward_to_hub.arn
      && output.analyzer_arn == aws_accessanalyzer_analyzer.account[0].arn
    )
    error_message = "The outputs must expose the rule, role and analyzer ARNs."
  }
}

run "hub_bus_in_other_partition" {
  command = plan

  variables {
    region      = "us-gov-west-1"
    hub_bus_arn = "arn:aws-us-gov:events:us-gov-east-1:111111111111:event-bus/default"
  }

  assert {
    condition     = aws_cloudwatch_event_target.hub_bus.arn == "arn:aws-us-gov:events:us-gov-east-1:111111111111:event-bus/default"
    error_message = "Event bus ARNs of every partition must be accepted."
  }
}

run "without_analyzer" {
  command = apply

  variables {
    create_analyzer = false
  }

  assert {
    condition     = length(aws_accessanalyzer_analyzer.account) == 0 && output.analyzer_arn == null
    error_message = "create_analyzer = false must create no analyzer and output a null analyzer_arn."
  }

  assert {
    condition     = aws_cloudwatch_event_target.hub_bus.arn == var.hub_bus_arn
    error_message = "Findings must still be forwarded without a module-managed analyzer."
  }
}

run "rejects_rule_arn_as_hub_bus" {
  command = plan

  variables {
    hub_bus_arn = "arn:aws:events:eu-west-1:111111111111:rule/fanin-local-findings"
  }

  expect_failures = [var.hub_bus_arn]
}

run "rejects_non_arn_hub_bus" {
  command = plan

  variables {
    hub_bus_arn = "fanin-intake"
  }

  expect_failures = [var.hub_bus_arn]
}

run "rejects_bad_account_id" {
  command = plan

  variables {
    account_id = "22222222222a"
  }

  expect_failures = [var.account_id]
}

run "rejects_bad_region" {
  command = plan

  variables {
    region = "EU_CENTRAL_1"
  }

  expect_failures = [var.region]
}

run "rejects_bad_name_prefix" {
  command = plan

  variables {
    name_prefix = "a-prefix-longer-than-twenty"
  }

  expect_failures = [var.name_prefix]
}

run "parks_undeliverable_findings_in_an_encrypted_queue" {
  command = apply

  assert {
    condition = (
      length(aws_cloudwatch_event_target.hub_bus.dead_letter_config) == 1
      && aws_cloudwatch_event_target.hub_bus.dead_letter_config[0].arn == aws_sqs_queue.dead_letter[0].arn
    )
    error_message = "Undeliverable findings must go to the spoke's dead-letter queue."
  }

  assert {
    condition = (
      length(aws_cloudwatch_event_target.hub_bus.retry_policy) == 1
      && aws_cloudwatch_event_target.hub_bus.retry_policy[0].maximum_retry_attempts == 185
      && aws_cloudwatch_event_target.hub_bus.retry_policy[0].maximum_event_age_in_seconds == 86400
    )
    error_message = "The target must retry for a day before giving up."
  }

  assert {
    condition     = aws_sqs_queue.dead_letter[0].sqs_managed_sse_enabled == true && aws_sqs_queue.dead_letter[0].kms_master_key_id == null && length(aws_kms_key.dead_letter) == 0
    error_message = "By default the dead-letter queue is encrypted with SQS-managed keys (SSE-SQS), and the spoke has no KMS key."
  }

  assert {
    condition = jsondecode(aws_sqs_queue_policy.dead_letter[0].policy).Statement == [{
      Sid       = "RuleDeadLetters"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.dead_letter[0].arn
      Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.finding.arn } }
    }]
    error_message = "Only this spoke's rule may send to its dead-letter queue."
  }
}

run "dead_letter_queue_with_a_key_of_its_own" {
  command = apply

  variables {
    dead_letter_queue_encryption = "sse-kms"
  }

  assert {
    condition     = aws_sqs_queue.dead_letter[0].kms_master_key_id == aws_kms_key.dead_letter[0].arn && aws_kms_key.dead_letter[0].enable_key_rotation
    error_message = "With sse-kms the dead-letter queue must be encrypted with the spoke's rotating key."
  }

  assert {
    condition = jsondecode(aws_kms_key.dead_letter[0].policy).Statement == [
      {
        Sid       = "AccountAdministersKey"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::222222222222:root" }
        Action    = "kms:*"
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
    error_message = "The key policy must be the account's and the SQS developer guide's statement for EventBridge, with no condition AWS does not document."
  }
}

run "rejects_unknown_dead_letter_queue_encryption" {
  command = plan

  variables {
    dead_letter_queue_encryption = "aws/sqs"
  }

  expect_failures = [var.dead_letter_queue_encryption]
}

run "without_dead_letter_queue" {
  command = apply

  variables {
    dead_letter_queue            = false
    dead_letter_queue_encryption = "sse-kms"
  }

  assert {
    condition = (
      length(aws_sqs_queue.dead_letter) == 0
      && length(aws_kms_key.dead_letter) == 0
      && length(aws_cloudwatch_event_target.hub_bus.dead_letter_config) == 0
      && output.dead_letter_queue_url == null
    )
    error_message = "With dead_letter_queue = false there is no queue, no key and no dead-letter config."
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
    condition = jsondecode(local.forwarded_event_pattern) == {
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

run "forwards_every_source_chosen" {
  command = apply

  variables {
    finding_sources        = ["external-access", "internal-access", "guardduty", "security-hub"]
    finding_min_severity   = "HIGH"
    finding_resource_types = ["AWS::S3::Bucket"]
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.finding.event_pattern) == {
      "source"      = ["aws.access-analyzer", "aws.guardduty", "aws.securityhub"]
      "detail-type" = ["Access Analyzer Finding", "Internal Access Finding", "GuardDuty Finding", "Security Hub Findings - Imported"]
    }
    error_message = "With several sources the spoke must forward every event of their sources and detail types (the hub filters)."
  }

  assert {
    condition = jsondecode(jsonencode(local.finding_event_patterns["guardduty"])) == {
      "source"      = ["aws.guardduty"]
      "detail-type" = ["GuardDuty Finding"]
      "detail"      = { "severity" = [{ "numeric" = [">=", 7] }] }
    }
    error_message = "HIGH must be GuardDuty severity 7 and up, as a number."
  }

  assert {
    condition = jsondecode(jsonencode(local.finding_event_patterns["security-hub"])) == {
      "source"      = ["aws.securityhub"]
      "detail-type" = ["Security Hub Findings - Imported"]
      "detail"      = { "findings" = { "Severity" = { "Label" = ["HIGH", "CRITICAL"] } } }
    }
    error_message = "HIGH must be the Security Hub labels HIGH and CRITICAL."
  }

  assert {
    condition = jsondecode(jsonencode(local.finding_event_patterns["internal-access"])) == {
      "source"      = ["aws.access-analyzer"]
      "detail-type" = ["Internal Access Finding"]
      "detail"      = { "isDeleted" = [false], "resourceType" = ["AWS::S3::Bucket"] }
    }
    error_message = "Access Analyzer sources must take the resource types asked for."
  }
}

run "one_other_source_keeps_its_filters_in_the_spoke" {
  command = apply

  variables {
    finding_sources      = ["guardduty"]
    finding_min_severity = "MEDIUM"
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.finding.event_pattern) == {
      "source"      = ["aws.guardduty"]
      "detail-type" = ["GuardDuty Finding"]
      "detail"      = { "severity" = [{ "numeric" = [">=", 4] }] }
    }
    error_message = "A single source must be forwarded with its own filters."
  }
}

run "refuses_an_unknown_source" {
  command = plan

  variables {
    finding_sources = ["macie"]
  }

  expect_failures = [var.finding_sources]
}

run "refuses_an_unknown_severity" {
  command = plan

  variables {
    finding_min_severity = "SEVERE"
  }

  expect_failures = [var.finding_min_severity]
}

run "creates_the_unused_access_analyzer_when_asked" {
  command = apply

  variables {
    finding_sources               = ["external-access", "unused-access"]
    create_unused_access_analyzer = true
  }

  assert {
    condition = (
      aws_accessanalyzer_analyzer.unused_access[0].analyzer_name == "fanin-unused-access"
      && aws_accessanalyzer_analyzer.unused_access[0].type == "ACCOUNT_UNUSED_ACCESS"
      && aws_accessanalyzer_analyzer.unused_access[0].configuration[0].unused_access[0].unused_access_age == 90
    )
    error_message = "The unused access analyzer must be <prefix>-unused-access, of type ACCOUNT_UNUSED_ACCESS, 90 days."
  }
}

run "forwards_custom_patterns_by_their_sources" {
  command = apply

  variables {
    custom_event_patterns = {
      macie = "{\"source\": [\"aws.macie\"], \"detail-type\": [\"Macie Finding\"]}"
    }
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.finding.event_pattern) == {
      "source"      = ["aws.access-analyzer", "aws.macie"]
      "detail-type" = ["Access Analyzer Finding", "Macie Finding"]
    }
    error_message = "A custom pattern's sources and detail types must join the forwarded ones."
  }
}

run "a_custom_pattern_without_detail_types_forwards_its_sources_whole" {
  command = apply

  variables {
    finding_sources       = ["guardduty"]
    custom_event_patterns = { app = "{\"source\": [\"acme.app\"], \"detail\": {\"level\": [\"high\"]}}" }
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.finding.event_pattern) == {
      "source" = ["aws.guardduty", "acme.app"]
    }
    error_message = "When one pattern names no detail type, the spoke must forward its sources' events whatever their type."
  }
}

run "refuses_a_custom_pattern_without_sources" {
  command = plan

  variables {
    custom_event_patterns = { app = "{\"detail-type\": [\"x\"]}" }
  }

  expect_failures = [var.custom_event_patterns]
}
