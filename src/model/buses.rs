//! The intake buses: which bus admits which member. One bus policy can list only as many
//! members as the hub's "Event bus policy size" quota allows, so a large inventory spreads its
//! members over several buses. A member keeps its bus from one generation to the next (the
//! manifest records it), so adding or removing members never changes another member's target,
//! role policy or permission; new members fill the lowest-numbered bus with room.

use std::collections::BTreeMap;

/// EventBridge's default quota for an event bus resource policy, in characters ("Event bus
/// policy size", adjustable: EventBridge user guide, "Amazon EventBridge quotas").
pub const BUS_POLICY_QUOTA: usize = 10_240;

/// SQS's limit on a queue policy, in bytes (SQS developer guide, "Amazon SQS policy quotas":
/// 8,192, not adjustable). The hub's dead-letter queue policy lists every finding rule.
pub const QUEUE_POLICY_LIMIT: usize = 8_192;

/// The bus each member was on in the last generation, by account id (active members only).
pub type EarlierBuses = BTreeMap<String, u32>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeBus {
    /// 1: the hub module's intake bus (the dedicated `<prefix>-intake`, or the default bus);
    /// 2, 3, ...: the buses `<prefix>-intake-<number>` opened when the ones before were full.
    pub number: u32,
    pub name: String,
    pub arn: String,
    /// The active members it admits, sorted.
    pub members: Vec<String>,
    /// Characters of its policy (0 without members: the hub module then writes none).
    pub policy_len: usize,
}

/// Where the hub's buses are, to name them.
pub(super) struct Buses<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account_id: &'a str,
    pub name_prefix: &'a str,
    pub use_default_bus: bool,
    /// What each finding rule of a bus adds to the bus's key (`Findings::rule_suffixes`):
    /// the hub has a finding rule per bus and source.
    pub rule_suffixes: &'a [String],
}

/// Why members cannot be given buses within the quota.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Overflow {
    /// Not even one member fits in a policy of `quota` characters.
    QuotaBelowOneMember { needed: usize },
    /// The members a bus already admits need more than the quota (it was lowered, or the
    /// bus's name grew): they do not move, so the quota must allow them.
    BusOverQuota {
        bus: String,
        members: usize,
        policy_len: usize,
    },
}

impl Buses<'_> {
    /// The name of bus `number` (modules/hub/main.tf: `local.intake_bus_name` for 1,
    /// `aws_cloudwatch_event_bus.additional_intake` for the others).
    pub fn name(&self, number: u32) -> String {
        match number {
            1 if self.use_default_bus => "default".to_string(),
            1 => format!("{}-intake", self.name_prefix),
            n => format!("{}-intake-{n}", self.name_prefix),
        }
    }

    pub fn arn(&self, number: u32) -> String {
        format!(
            "arn:{}:events:{}:{}:event-bus/{}",
            self.partition,
            self.region,
            self.account_id,
            self.name(number)
        )
    }

    /// Gives every active member (`members`, sorted) a bus: the one it had, else the
    /// lowest-numbered bus with room under `quota`. Bus 1 is always there. Linear in the
    /// members and the buses.
    pub fn assign(
        &self,
        members: &[&str],
        earlier: &EarlierBuses,
        quota: usize,
    ) -> Result<Vec<IntakeBus>, Vec<Overflow>> {
        let mut by_bus: BTreeMap<u32, Vec<&str>> = BTreeMap::from([(1, Vec::new())]);
        let mut new = Vec::new();
        for &id in members {
            match earlier.get(id) {
                Some(&n) if n >= 1 => by_bus.entry(n).or_default().push(id),
                _ => new.push(id),
            }
        }
        let mut problems = Vec::new();
        for (&n, ids) in &by_bus {
            let policy_len = bus_policy_len(self.partition, &self.arn(n), ids);
            if ids.len() > self.capacity(n, quota) {
                problems.push(Overflow::BusOverQuota {
                    bus: self.name(n),
                    members: ids.len(),
                    policy_len,
                });
            }
        }
        let mut new = new.into_iter().peekable();
        let mut n = 1;
        while problems.is_empty() && new.peek().is_some() {
            let capacity = self.capacity(n, quota);
            if capacity == 0 {
                problems.push(Overflow::QuotaBelowOneMember {
                    needed: bus_policy_len(self.partition, &self.arn(n), &["000000000000"]),
                });
                break;
            }
            let ids = by_bus.entry(n).or_default();
            while ids.len() < capacity {
                match new.next() {
                    Some(id) => ids.push(id),
                    None => break,
                }
            }
            n += 1;
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(by_bus
            .into_iter()
            .filter(|(n, ids)| *n == 1 || !ids.is_empty())
            .map(|(number, mut ids)| {
                ids.sort_unstable();
                let arn = self.arn(number);
                IntakeBus {
                    number,
                    name: self.name(number),
                    policy_len: if ids.is_empty() {
                        0
                    } else {
                        bus_policy_len(self.partition, &arn, &ids)
                    },
                    members: ids.into_iter().map(str::to_string).collect(),
                    arn,
                }
            })
            .collect())
    }

    /// How many members the policy of bus `number` can list within `quota`.
    fn capacity(&self, number: u32, quota: usize) -> usize {
        members_that_fit(self.partition, &self.arn(number), quota)
    }

    /// The hub's dead-letter queue policy as modules/hub/main.tf writes it
    /// (`aws_sqs_queue_policy.dead_letter`, `jsonencode`: keys sorted, no spaces), listing the
    /// finding rule of the hub's default bus and of every intake bus.
    pub fn dead_letter_policy(&self, buses: &[IntakeBus]) -> String {
        self.rule_queue_policy(buses, "findings-topic-dlq", "RuleDeadLetters")
    }

    /// The hub's findings queue policy as modules/hub/main.tf writes it
    /// (`aws_sqs_queue_policy.findings`), listing the same rules.
    pub fn findings_queue_policy(&self, buses: &[IntakeBus]) -> String {
        self.rule_queue_policy(buses, "findings", "FindingRulesSend")
    }

    /// The policy of the hub queue `<prefix>-<queue>`, which every finding rule may send to.
    fn rule_queue_policy(&self, buses: &[IntakeBus], queue: &str, sid: &str) -> String {
        let rule = |bus: &str, key: &str| {
            let name = format!("{}-{key}-findings", self.name_prefix);
            let path = if bus == "default" {
                name
            } else {
                format!("{bus}/{name}")
            };
            format!(
                r#""arn:{}:events:{}:{}:rule/{path}""#,
                self.partition, self.region, self.account_id
            )
        };
        let mut bus_keys = vec![("default", "local".to_string())];
        for bus in buses {
            match bus.number {
                1 if self.use_default_bus => {}
                1 => bus_keys.push((&bus.name, "intake".to_string())),
                n => bus_keys.push((&bus.name, format!("intake-{n}"))),
            }
        }
        let mut rules = Vec::with_capacity(bus_keys.len() * self.rule_suffixes.len());
        for (bus, key) in &bus_keys {
            for suffix in self.rule_suffixes {
                rules.push(rule(bus, &format!("{key}{suffix}")));
            }
        }
        format!(
            r#"{{"Statement":[{{"Action":"sqs:SendMessage","Condition":{{"ArnEquals":{{"aws:SourceArn":[{}]}}}},"Effect":"Allow","Principal":{{"Service":"events.amazonaws.com"}},"Resource":"arn:{}:sqs:{}:{}:{}-{queue}","Sid":"{sid}"}}],"Version":"2012-10-17"}}"#,
            rules.join(","),
            self.partition,
            self.region,
            self.account_id,
            self.name_prefix
        )
    }
}

/// The intake bus policy as modules/hub/main.tf writes it (`aws_cloudwatch_event_bus_policy`,
/// `jsonencode` output: keys sorted, no spaces), with `members` in its principal array: the
/// form EventBridge stores and counts against the quota. tests/module_contract.rs compares it
/// with the module's expression.
pub fn bus_policy(partition: &str, bus_arn: &str, members: &[impl AsRef<str>]) -> String {
    let principals: Vec<String> = members
        .iter()
        .map(|id| format!(r#""arn:{partition}:iam::{}:root""#, id.as_ref()))
        .collect();
    format!(
        r#"{{"Statement":[{{"Action":"events:PutEvents","Effect":"Allow","Principal":{{"AWS":[{}]}},"Resource":"{bus_arn}","Sid":"MemberAccountsPutEvents"}}],"Version":"2012-10-17"}}"#,
        principals.join(",")
    )
}

/// Length of the whole bus policy for these members.
fn bus_policy_len(partition: &str, bus_arn: &str, members: &[impl AsRef<str>]) -> usize {
    bus_policy(partition, bus_arn, members).len()
}

/// How many members one bus policy of at most `quota` characters can list.
pub(super) fn members_that_fit(partition: &str, bus_arn: &str, quota: usize) -> usize {
    // Every principal has the same length (account ids are all 12 digits), plus a comma
    // between two of them.
    let envelope = bus_policy_len(partition, bus_arn, &[] as &[&str]);
    let one = bus_policy_len(partition, bus_arn, &["000000000000"]) - envelope;
    (quota.saturating_sub(envelope) + 1) / (one + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HUB: Buses<'static> = Buses {
        partition: "aws",
        region: "eu-west-1",
        account_id: "111111111111",
        name_prefix: "fanin",
        use_default_bus: false,
        rule_suffixes: &[String::new()],
    };

    fn ids(range: std::ops::Range<usize>) -> Vec<String> {
        range
            .map(|i| format!("{:012}", 200_000_000_000 + i))
            .collect()
    }

    fn refs(ids: &[String]) -> Vec<&str> {
        ids.iter().map(String::as_str).collect()
    }

    fn earlier_of(buses: &[IntakeBus]) -> EarlierBuses {
        buses
            .iter()
            .flat_map(|b| b.members.iter().map(|id| (id.clone(), b.number)))
            .collect()
    }

    #[test]
    fn policy_length_counts_commas_between_principals() {
        let arn = HUB.arn(1);
        let none = bus_policy_len("aws", &arn, &[] as &[&str]);
        let one = bus_policy_len("aws", &arn, &["222222222222"]);
        let two = bus_policy_len("aws", &arn, &["222222222222", "333333333333"]);
        let principal = r#""arn:aws:iam::222222222222:root""#.len();
        assert_eq!(one - none, principal);
        assert_eq!(two - one, principal + 1);
        let fit = members_that_fit("aws", &arn, BUS_POLICY_QUOTA);
        assert!(bus_policy_len("aws", &arn, &ids(0..fit)) <= BUS_POLICY_QUOTA);
        assert!(bus_policy_len("aws", &arn, &ids(0..fit + 1)) > BUS_POLICY_QUOTA);
    }

    #[test]
    fn bus_policy_is_the_json_the_hub_module_writes() {
        let arn = HUB.arn(2);
        let policy: serde_json::Value =
            serde_json::from_str(&bus_policy("aws", &arn, &["222222222222"])).unwrap();
        assert_eq!(
            policy,
            serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "MemberAccountsPutEvents",
                    "Effect": "Allow",
                    "Principal": {"AWS": ["arn:aws:iam::222222222222:root"]},
                    "Action": "events:PutEvents",
                    "Resource": "arn:aws:events:eu-west-1:111111111111:event-bus/fanin-intake-2",
                }],
            })
        );
    }

    #[test]
    fn one_bus_until_it_is_full_then_the_next() {
        let fit = members_that_fit("aws", &HUB.arn(1), BUS_POLICY_QUOTA);
        let members = ids(0..fit);
        let buses = HUB
            .assign(&refs(&members), &EarlierBuses::new(), BUS_POLICY_QUOTA)
            .unwrap();
        assert_eq!(buses.len(), 1);
        assert_eq!(buses[0].members, members);
        let members = ids(0..fit + 1);
        let buses = HUB
            .assign(&refs(&members), &EarlierBuses::new(), BUS_POLICY_QUOTA)
            .unwrap();
        assert_eq!(
            buses.iter().map(|b| b.members.len()).collect::<Vec<_>>(),
            [fit, 1]
        );
        assert_eq!(buses[1].name, "fanin-intake-2");
        for bus in &buses {
            assert!(bus.policy_len <= BUS_POLICY_QUOTA, "{}", bus.name);
            assert_eq!(
                bus.policy_len,
                bus_policy("aws", &bus.arn, &bus.members).len()
            );
        }
    }

    #[test]
    fn members_keep_their_bus_when_others_come_and_go() {
        let members = ids(0..1_000);
        let first = HUB
            .assign(&refs(&members), &EarlierBuses::new(), BUS_POLICY_QUOTA)
            .unwrap();
        assert!(first.len() > 3, "{} buses", first.len());
        let before = earlier_of(&first);
        // Remove the first member of bus 1 and one of bus 2, add two whose ids sort first.
        let mut next: Vec<String> = members
            .iter()
            .filter(|id| **id != first[0].members[0] && **id != first[1].members[5])
            .cloned()
            .collect();
        next.extend(["000000000001".to_string(), "000000000002".to_string()]);
        next.sort();
        let second = HUB.assign(&refs(&next), &before, BUS_POLICY_QUOTA).unwrap();
        let after = earlier_of(&second);
        for (id, bus) in &before {
            if let Some(now) = after.get(id) {
                assert_eq!(now, bus, "{id} moved");
            }
        }
        // The new members took the two freed places, on the buses that had room.
        assert_eq!(after["000000000001"], 1);
        assert_eq!(after["000000000002"], 2);
        assert_eq!(second.len(), first.len());
    }

    #[test]
    fn a_lowered_quota_never_moves_members_it_reports_them() {
        let members = ids(0..100);
        let buses = HUB
            .assign(&refs(&members), &EarlierBuses::new(), BUS_POLICY_QUOTA)
            .unwrap();
        let problems = HUB
            .assign(&refs(&members), &earlier_of(&buses), 2_048)
            .unwrap_err();
        assert_eq!(
            problems,
            [Overflow::BusOverQuota {
                bus: "fanin-intake".into(),
                members: 100,
                policy_len: buses[0].policy_len,
            }]
        );
        let problems = HUB
            .assign(&refs(&members), &EarlierBuses::new(), 100)
            .unwrap_err();
        assert!(matches!(
            problems[..],
            [Overflow::QuotaBelowOneMember { needed }] if needed > 100
        ));
    }

    #[test]
    fn the_default_bus_is_bus_one_and_further_buses_are_dedicated() {
        let hub = Buses {
            use_default_bus: true,
            ..HUB
        };
        assert_eq!(
            hub.arn(1),
            "arn:aws:events:eu-west-1:111111111111:event-bus/default"
        );
        assert_eq!(hub.name(12), "fanin-intake-12");
    }

    #[test]
    fn the_dead_letter_policy_lists_every_finding_rule() {
        let buses = HUB
            .assign(&refs(&ids(0..700)), &EarlierBuses::new(), BUS_POLICY_QUOTA)
            .unwrap();
        let policy: serde_json::Value =
            serde_json::from_str(&HUB.dead_letter_policy(&buses)).unwrap();
        let rules = &policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"];
        assert_eq!(
            rules,
            &serde_json::json!([
                "arn:aws:events:eu-west-1:111111111111:rule/fanin-local-findings",
                "arn:aws:events:eu-west-1:111111111111:rule/fanin-intake/fanin-intake-findings",
                "arn:aws:events:eu-west-1:111111111111:rule/fanin-intake-2/fanin-intake-2-findings",
                "arn:aws:events:eu-west-1:111111111111:rule/fanin-intake-3/fanin-intake-3-findings",
            ])
        );
    }

    #[test]
    fn the_dead_letter_policy_lists_a_rule_per_bus_and_source() {
        let hub = Buses {
            rule_suffixes: &[String::new(), "-guardduty".to_string()],
            ..HUB
        };
        let buses = hub
            .assign(&refs(&ids(0..400)), &EarlierBuses::new(), BUS_POLICY_QUOTA)
            .unwrap();
        let policy: serde_json::Value =
            serde_json::from_str(&hub.dead_letter_policy(&buses)).unwrap();
        let rules = &policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"];
        assert_eq!(
            rules,
            &serde_json::json!([
                "arn:aws:events:eu-west-1:111111111111:rule/fanin-local-findings",
                "arn:aws:events:eu-west-1:111111111111:rule/fanin-local-guardduty-findings",
                "arn:aws:events:eu-west-1:111111111111:rule/fanin-intake/fanin-intake-findings",
                "arn:aws:events:eu-west-1:111111111111:rule/fanin-intake/fanin-intake-guardduty-findings",
                "arn:aws:events:eu-west-1:111111111111:rule/fanin-intake-2/fanin-intake-2-findings",
                "arn:aws:events:eu-west-1:111111111111:rule/fanin-intake-2/fanin-intake-2-guardduty-findings",
            ])
        );
    }

    #[test]
    fn the_findings_queue_policy_lists_the_same_rules_for_its_own_queue() {
        let buses = HUB
            .assign(&refs(&ids(0..700)), &EarlierBuses::new(), BUS_POLICY_QUOTA)
            .unwrap();
        let parse = |text: String| -> serde_json::Value { serde_json::from_str(&text).unwrap() };
        let (queue, dead_letters) = (
            parse(HUB.findings_queue_policy(&buses)),
            parse(HUB.dead_letter_policy(&buses)),
        );
        let (queue, dead_letters) = (&queue["Statement"][0], &dead_letters["Statement"][0]);
        assert_eq!(queue["Condition"], dead_letters["Condition"]);
        assert_eq!(
            queue["Resource"],
            "arn:aws:sqs:eu-west-1:111111111111:fanin-findings"
        );
        assert_eq!(queue["Sid"], "FindingRulesSend");
    }
}
