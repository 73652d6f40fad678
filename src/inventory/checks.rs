//! Rules for single values: what an account id, a region, a name, an email address or a tag
//! may be, each with a message that says what is wrong and what is allowed.

use crate::diagnostics::{did_you_mean, shown};
use crate::regions;

pub const MAX_KEY_LEN: usize = 40;

/// Account keys and the hub name become parts of HCL identifiers (provider aliases, module
/// names), so they must already be identifiers: fanin never renames silently.
pub fn is_valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    key.len() <= MAX_KEY_LEN
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

pub(super) const KEY_RULE: &str = "allowed: a lowercase letter, then lowercase letters, digits, `_` or `-`, at most 40 characters";

pub(super) fn check_key(v: &str) -> Result<(), String> {
    if is_valid_key(v) {
        Ok(())
    } else {
        Err(format!("{} is not a valid name; {KEY_RULE}", shown(v)))
    }
}

pub(super) fn check_account_id(v: &str) -> Result<(), String> {
    if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "{} is not an AWS account id; allowed: exactly 12 digits",
            shown(v)
        ))
    }
}

pub(super) fn check_region(v: &str) -> Result<(), String> {
    if regions::partition_of(v).is_some() {
        return Ok(());
    }
    let what = if regions::looks_like_region(v) {
        "is not a region fanin knows"
    } else {
        "is not a region name"
    };
    Err(format!(
        "{} {what}{}; allowed: {}, {}, {}",
        shown(v),
        did_you_mean(v, regions::all()),
        regions::names_in("aws").join(", "),
        regions::names_in("aws-cn").join(", "),
        regions::names_in("aws-us-gov").join(", ")
    ))
}

pub(super) fn check_name_prefix(v: &str) -> Result<(), String> {
    let ok = (1..=20).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a valid name prefix; allowed: 1 to 20 of a-z, 0-9 and -",
            shown(v)
        ))
    }
}

/// IAM role names: 1-64 of letters, digits and `+=,.@_-`.
pub(super) fn check_role_name(v: &str) -> Result<(), String> {
    if is_iam_name(v, 64) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a valid IAM role name; allowed: 1 to 64 of letters, digits and +=,.@_-",
            shown(v)
        ))
    }
}

fn is_iam_name(v: &str, max: usize) -> bool {
    (1..=max).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// The account id in `arn:<partition>:iam::<id>:role/<path/name>`, when it has that shape.
pub(super) fn role_arn_account(v: &str) -> Option<&str> {
    let rest = v.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    if !matches!(partition, "aws" | "aws-cn" | "aws-us-gov") {
        return None;
    }
    let rest = rest.strip_prefix("iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let name_path = resource.strip_prefix("role/")?;
    let valid_account = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let valid_name = name_path.split('/').all(|p| is_iam_name(p, 64)) && name_path.len() <= 512;
    (valid_account && valid_name).then_some(account)
}

pub(super) fn check_role_arn(v: &str) -> Result<(), String> {
    match role_arn_account(v) {
        Some(_) => Ok(()),
        None => Err(format!(
            "{} is not an IAM role ARN; allowed: arn:aws:iam::<12-digit account id>:role/<name> (partition aws, aws-cn or aws-us-gov)",
            shown(v)
        )),
    }
}

/// The external id as STS accepts it: 2-1224 of letters, digits and `+=,.@:/-_`.
pub(super) fn check_external_id(v: &str) -> Result<(), String> {
    let ok = (2..=1224).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@:/-_".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(
            "is not a valid external id; allowed: 2 to 1224 of letters, digits and +=,.@:/-_"
                .into(),
        )
    }
}

/// Profile names live in the user's AWS config: printable ASCII on one line. Non-ASCII is
/// refused so that no invisible or bidirectional character can hide in a reviewed diff.
pub(super) fn check_profile(v: &str) -> Result<(), String> {
    let ok = !v.trim().is_empty()
        && v.len() <= 128
        && v.chars().all(|c| c.is_ascii_graphic() || c == ' ');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a usable profile name; allowed: 1 to 128 printable ASCII characters",
            shown(v)
        ))
    }
}

pub(super) fn check_topic_name(v: &str) -> Result<(), String> {
    let ok = (1..=256).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a valid SNS topic name; allowed: 1 to 256 of letters, digits, - and _",
            shown(v)
        ))
    }
}

/// A plain address `local@domain.tld` as SNS email subscriptions take it: the local part a
/// dot-atom, the domain DNS labels with a letter-only top level. Stricter than RFC 5322 on
/// purpose: quoted local parts and address literals are not deliverable through SNS.
pub(super) fn check_email(v: &str) -> Result<(), String> {
    let err = || {
        Err(format!(
            "{} is not a valid email address; allowed: name@example.com",
            shown(v)
        ))
    };
    let Some((local, domain)) = v.rsplit_once('@') else {
        return err();
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()));
    if local_ok && domain_ok && v.len() <= 254 {
        Ok(())
    } else {
        err()
    }
}

/// AWS tag rules: keys 1-128 and values 0-256 characters of letters, digits, spaces and
/// `_.:/=+-@`; keys starting with `aws:` are reserved. The text must also be in Unicode NFC
/// without combining marks: OpenTofu/Terraform normalise string literals to NFC, so other
/// forms would reach AWS changed (and two keys could silently merge), and AWS refuses marks.
fn is_tag_text(v: &str) -> bool {
    use unicode_normalization::{char::is_combining_mark, is_nfc};
    is_nfc(v)
        && v.chars().all(|c| {
            (c.is_alphanumeric() && !is_combining_mark(c)) || c == ' ' || "_.:/=+-@".contains(c)
        })
}

pub(super) fn check_tag_key(v: &str) -> Result<(), String> {
    if v.to_ascii_lowercase().starts_with("aws:") {
        return Err("tag keys starting with aws: are reserved by AWS".into());
    }
    if (1..=128).contains(&v.chars().count()) && is_tag_text(v) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a valid tag key; allowed: 1 to 128 letters, digits, spaces and _.:/=+-@ (Unicode in NFC form, no combining marks)",
            shown(v)
        ))
    }
}

pub(super) fn check_tag_value(v: &str) -> Result<(), String> {
    if v.chars().count() <= 256 && is_tag_text(v) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a valid tag value; allowed: up to 256 letters, digits, spaces and _.:/=+-@ (Unicode in NFC form, no combining marks)",
            shown(v)
        ))
    }
}

/// S3 bucket names: 3-63 of lowercase letters, digits, `.` and `-`, starting and ending with
/// a letter or digit, no `..`.
pub(super) fn check_bucket(v: &str) -> Result<(), String> {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ok = (3..=63).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && edge(v.chars().next())
        && edge(v.chars().last())
        && !v.contains("..");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not an S3 bucket name; allowed: 3 to 63 of a-z, 0-9, . and -, starting and ending with a letter or digit",
            shown(v)
        ))
    }
}

/// Where each root's name goes in the state key.
pub const STACK_PLACEHOLDER: &str = "{stack}";

/// A state key pattern: S3's safe key characters (letters, digits, `!-_.*'()/`), `{stack}`
/// exactly once so that no two roots share a state, no empty path segment.
pub(super) fn check_state_key(v: &str) -> Result<(), String> {
    let rest = v.replacen(STACK_PLACEHOLDER, "x", 1);
    let ok = v.matches(STACK_PLACEHOLDER).count() == 1
        && v.len() <= 1000
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!-_.*'()/".contains(&b))
        && rest.split('/').all(|segment| !segment.is_empty());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a state key pattern; allowed: letters, digits and !-_.*'()/ with {{stack}} exactly once (each root's name goes there), no empty path segment, e.g. \"fanin/{{stack}}/terraform.tfstate\"",
            shown(v)
        ))
    }
}

/// DynamoDB table names: 3-255 of letters, digits, `_`, `-` and `.`.
pub(super) fn check_dynamodb_table(v: &str) -> Result<(), String> {
    let ok = (3..=255).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a DynamoDB table name; allowed: 3 to 255 of letters, digits, _, - and .",
            shown(v)
        ))
    }
}

/// The finding statuses of Access Analyzer (`status` in a finding's event).
pub const FINDING_STATUSES: [&str; 3] = ["ACTIVE", "ARCHIVED", "RESOLVED"];

pub(super) fn check_finding_status(v: &str) -> Result<(), String> {
    if FINDING_STATUSES.contains(&v) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a finding status; allowed: \"ACTIVE\", \"ARCHIVED\" or \"RESOLVED\"",
            shown(v)
        ))
    }
}

/// Where forwarded findings come from (`[findings] sources`), in the order the tree lists
/// them; the modules' `finding_sources` takes the same names.
pub const FINDING_SOURCES: [&str; 5] = [
    "external-access",
    "unused-access",
    "internal-access",
    "guardduty",
    "security-hub",
];

pub(super) fn check_finding_source(v: &str) -> Result<(), String> {
    if FINDING_SOURCES.contains(&v) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a finding source{}; allowed: \"external-access\", \"unused-access\", \"internal-access\", \"guardduty\" or \"security-hub\"",
            shown(v),
            did_you_mean(v, FINDING_SOURCES.iter().copied())
        ))
    }
}

/// The severities `[findings] min_severity` takes, lowest first.
pub const SEVERITIES: [&str; 4] = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];

pub(super) fn check_severity(v: &str) -> Result<(), String> {
    if SEVERITIES.contains(&v) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a severity; allowed: \"LOW\", \"MEDIUM\", \"HIGH\" or \"CRITICAL\"",
            shown(v)
        ))
    }
}

/// CloudFormation-style resource types as Access Analyzer writes them in `resourceType`
/// (`AWS::S3::Bucket`): `AWS::`, a service, `::`, a type, letters and digits.
pub(super) fn check_resource_type(v: &str) -> Result<(), String> {
    let ok = v.strip_prefix("AWS::").is_some_and(|rest| {
        let mut parts = rest.split("::");
        let word = |p: Option<&str>| {
            p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        };
        word(parts.next()) && word(parts.next()) && parts.next().is_none()
    });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a resource type; allowed: AWS::<service>::<type> of letters and digits, such as \"AWS::S3::Bucket\"",
            shown(v)
        ))
    }
}

/// The name of a custom event pattern: part of its hub rules' names
/// (`<prefix>-<bus>-custom-<name>-findings`, at most 64 characters).
pub(super) fn check_custom_pattern_name(v: &str) -> Result<(), String> {
    let mut chars = v.chars();
    let ok = v.len() <= 16
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a pattern name; allowed: a lowercase letter, then lowercase letters, digits and -, at most 16 characters",
            shown(v)
        ))
    }
}

/// EventBridge's default "Event pattern size" quota, in characters (EventBridge user guide,
/// "Amazon EventBridge quotas"; raisable to 4,096).
pub const MAX_EVENT_PATTERN_LEN: usize = 2048;

/// A custom event pattern: JSON text as EventBridge takes it (kept as written: EventBridge
/// compares numbers by their text), an object naming its sources as a list of strings (each
/// member forwards those sources' events and no others) and, if it names detail types, as a
/// list of strings too.
pub(super) fn check_custom_pattern(v: &str) -> Result<(), String> {
    const EXAMPLE: &str = r#"such as {"source": ["aws.macie"], "detail-type": ["Macie Finding"]}"#;
    let value: serde_json::Value = serde_json::from_str(v).map_err(|e| {
        format!("is not JSON ({e}); allowed: an EventBridge event pattern, {EXAMPLE}")
    })?;
    let Some(object) = value.as_object() else {
        return Err(format!(
            "is not a JSON object; allowed: an EventBridge event pattern, {EXAMPLE}"
        ));
    };
    let strings = |key: &str| {
        object
            .get(key)
            .and_then(|v| v.as_array())
            .is_some_and(|list| {
                !list.is_empty()
                    && list
                        .iter()
                        .all(|item| item.as_str().is_some_and(|s| !s.is_empty()))
            })
    };
    if !strings("source") {
        return Err(format!(
            "has no \"source\" list of texts; the members forward the events of the sources it names and no others, {EXAMPLE}"
        ));
    }
    if object.contains_key("detail-type") && !strings("detail-type") {
        return Err(format!(
            "has a \"detail-type\" that is not a list of texts, {EXAMPLE}"
        ));
    }
    if v.len() > MAX_EVENT_PATTERN_LEN {
        return Err(format!(
            "is {} characters; EventBridge's default event pattern quota is {MAX_EVENT_PATTERN_LEN}",
            v.len()
        ));
    }
    Ok(())
}

/// The retention periods CloudWatch Logs offers, in days (PutRetentionPolicy's
/// `retentionInDays`).
pub const LOG_RETENTION_DAYS: [u64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Archive rule names, as CreateArchiveRule takes them: 1-255 characters, pattern
/// `[A-Za-z][A-Za-z0-9_.-]*`
/// (https://docs.aws.amazon.com/access-analyzer/latest/APIReference/API_CreateArchiveRule.html).
pub(super) fn check_archive_rule_name(v: &str) -> Result<(), String> {
    let mut bytes = v.bytes();
    let ok = v.len() <= 255
        && bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not an archive rule name; allowed: a letter, then letters, digits, _, . and -, at most 255 characters",
            shown(v)
        ))
    }
}

/// A finding property an archive rule filters on (`resourceType`, `principal.AWS`,
/// `condition.aws:SourceIp`, ...): the IAM User Guide's "IAM Access Analyzer filter keys"
/// lists them, and Access Analyzer adds new ones, so only their shape is checked here.
pub(super) fn check_filter_key(v: &str) -> Result<(), String> {
    let ok = (1..=255).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_graphic() && !b"\"\\".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a finding property; allowed: a filter key of IAM Access Analyzer such as resourceType, principal.AWS or condition.aws:SourceIp (1 to 255 printable characters, no spaces or quotes)",
            shown(v)
        ))
    }
}

/// A value an archive rule compares a finding property with: any text but control
/// characters (Access Analyzer does not check values: an ARN, an account id, `true`).
pub(super) fn check_filter_value(v: &str) -> Result<(), String> {
    if is_one_line(v, 2048) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a filter value; allowed: 1 to 2048 characters, no control characters",
            shown(v)
        ))
    }
}

/// 1 to `max` characters, none of them a control character (so no line break).
fn is_one_line(v: &str, max: usize) -> bool {
    !v.is_empty() && v.chars().count() <= max && !v.chars().any(char::is_control)
}

/// Where an editor finds the inventory's schema (`"$schema"`, a path or a URL): fanin only
/// checks that it is one line of text and otherwise ignores it.
pub(super) fn check_schema_reference(v: &str) -> Result<(), String> {
    if is_one_line(v, 2048) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a schema reference; allowed: a path or URL of 1 to 2048 characters, no control characters",
            shown(v)
        ))
    }
}

/// A rule for one kind of text, in two forms: the check the loader runs (its message says
/// what is wrong and what is allowed) and the same rule in JSON Schema keywords, which
/// `fanin schema` gives editors. The schema says as much of the rule as JSON Schema can: it
/// accepts every text the check accepts and refuses what it can state (not, for example,
/// Unicode normal forms); the tests hold the two forms to each other.
#[derive(Clone, Copy)]
pub struct Rule {
    pub check: fn(&str) -> Result<(), String>,
    pub schema: TextSchema,
}

/// JSON Schema keywords for a string. Patterns keep to what every engine editors use reads
/// alike (ECMA-262 in Taplo's and the YAML language server's validators, Rust's `regex`):
/// classes, groups, repetition and anchors; lengths are in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextSchema {
    pub pattern: Option<&'static str>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    /// The only values allowed.
    pub values: Option<&'static [&'static str]>,
    /// A pattern the text must not match.
    pub not_pattern: Option<&'static str>,
}

impl TextSchema {
    const ANY: TextSchema = TextSchema {
        pattern: None,
        min_length: None,
        max_length: None,
        values: None,
        not_pattern: None,
    };

    const fn pattern(pattern: &'static str) -> TextSchema {
        TextSchema {
            pattern: Some(pattern),
            ..TextSchema::ANY
        }
    }

    const fn lengths(self, min: usize, max: usize) -> TextSchema {
        TextSchema {
            min_length: Some(min),
            max_length: Some(max),
            ..self
        }
    }
}

const fn rule(check: fn(&str) -> Result<(), String>, schema: TextSchema) -> Rule {
    Rule { check, schema }
}

pub(super) const KEY: Rule = rule(check_key, TextSchema::pattern("^[a-z][a-z0-9_-]{0,39}$"));
pub(super) const ACCOUNT_ID: Rule = rule(check_account_id, TextSchema::pattern("^[0-9]{12}$"));
pub(super) const REGION: Rule = rule(
    check_region,
    TextSchema {
        values: Some(&regions::NAMES),
        ..TextSchema::ANY
    },
);
pub(super) const NAME_PREFIX: Rule =
    rule(check_name_prefix, TextSchema::pattern("^[a-z0-9-]{1,20}$"));
pub(super) const ROLE_NAME: Rule = rule(
    check_role_name,
    TextSchema::pattern("^[A-Za-z0-9+=,.@_-]{1,64}$"),
);
/// The role's path and name are not held to 512 characters together here.
pub(super) const ROLE_ARN: Rule = rule(
    check_role_arn,
    TextSchema::pattern(
        "^arn:(aws|aws-cn|aws-us-gov):iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_-]{1,64}(/[A-Za-z0-9+=,.@_-]{1,64})*$",
    ),
);
pub(super) const EXTERNAL_ID: Rule = rule(
    check_external_id,
    TextSchema::pattern("^[A-Za-z0-9+=,.@:/_-]*$").lengths(2, 1224),
);
pub(super) const PROFILE: Rule = rule(
    check_profile,
    TextSchema::pattern("^[ -~]*[!-~][ -~]*$").lengths(1, 128),
);
pub(super) const TOPIC_NAME: Rule = rule(
    check_topic_name,
    TextSchema::pattern("^[A-Za-z0-9_-]*$").lengths(1, 256),
);
/// The local part is not held to 64 characters here.
pub(super) const EMAIL: Rule = rule(
    check_email,
    TextSchema::pattern(
        r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$",
    )
    .lengths(6, 254),
);
/// Of the characters of tags, only the ASCII ones tags may not hold are refused here; the
/// rest (Unicode letters and digits in NFC, no combining marks) is the check's: editors'
/// pattern engines differ on Unicode classes.
macro_rules! tag_refused_ascii {
    () => {
        r##"[\x00-\x1f!"#$%&'()*,;<>?\[\\\]^`{|}~\x7f]"##
    };
}
pub(super) const TAG_KEY: Rule = rule(
    check_tag_key,
    TextSchema {
        not_pattern: Some(concat!("^[aA][wW][sS]:|", tag_refused_ascii!())),
        ..TextSchema::ANY.lengths(1, 128)
    },
);
pub(super) const TAG_VALUE: Rule = rule(
    check_tag_value,
    TextSchema {
        not_pattern: Some(tag_refused_ascii!()),
        ..TextSchema::ANY.lengths(0, 256)
    },
);
pub(super) const BUCKET: Rule = rule(
    check_bucket,
    TextSchema {
        not_pattern: Some(r"\.\."),
        ..TextSchema::pattern("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    },
);
pub(super) const STATE_KEY: Rule = rule(
    check_state_key,
    TextSchema::pattern(
        r"^([A-Za-z0-9!_.*'()-]+/)*[A-Za-z0-9!_.*'()-]*\{stack\}[A-Za-z0-9!_.*'()-]*(/[A-Za-z0-9!_.*'()-]+)*$",
    )
    .lengths(7, 1000),
);
pub(super) const DYNAMODB_TABLE: Rule = rule(
    check_dynamodb_table,
    TextSchema::pattern("^[A-Za-z0-9_.-]*$").lengths(3, 255),
);
pub(super) const FINDING_STATUS: Rule = rule(
    check_finding_status,
    TextSchema {
        values: Some(&FINDING_STATUSES),
        ..TextSchema::ANY
    },
);
pub(super) const FINDING_SOURCE: Rule = rule(
    check_finding_source,
    TextSchema {
        values: Some(&FINDING_SOURCES),
        ..TextSchema::ANY
    },
);
pub(super) const SEVERITY: Rule = rule(
    check_severity,
    TextSchema {
        values: Some(&SEVERITIES),
        ..TextSchema::ANY
    },
);
pub(super) const RESOURCE_TYPE: Rule = rule(
    check_resource_type,
    TextSchema::pattern("^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$"),
);
pub(super) const CUSTOM_PATTERN_NAME: Rule = rule(
    check_custom_pattern_name,
    TextSchema::pattern("^[a-z][a-z0-9-]*$").lengths(1, 16),
);
/// The schema says it is JSON text starting with `{`; the check parses it.
pub(super) const CUSTOM_PATTERN: Rule = rule(
    check_custom_pattern,
    TextSchema::pattern(r"^\s*\{").lengths(2, MAX_EVENT_PATTERN_LEN),
);
pub(super) const ARCHIVE_RULE_NAME: Rule = rule(
    check_archive_rule_name,
    TextSchema::pattern("^[A-Za-z][A-Za-z0-9_.-]*$").lengths(1, 255),
);
pub(super) const FILTER_KEY: Rule = rule(
    check_filter_key,
    TextSchema::pattern(r"^[!#-\[\]-~]*$").lengths(1, 255),
);
pub(super) const SCHEMA_REFERENCE: Rule = rule(
    check_schema_reference,
    TextSchema::pattern(r"^[^\x00-\x1f\x7f-\x9f]*$").lengths(1, 2048),
);
pub(super) const FILTER_VALUE: Rule = rule(
    check_filter_value,
    TextSchema::pattern(r"^[^\x00-\x1f\x7f-\x9f]*$").lengths(1, 2048),
);

/// Every rule, by name, for the tests that hold each schema to its check.
#[cfg(test)]
pub(super) const RULES: &[(&str, Rule)] = &[
    ("key", KEY),
    ("account_id", ACCOUNT_ID),
    ("region", REGION),
    ("name_prefix", NAME_PREFIX),
    ("role_name", ROLE_NAME),
    ("role_arn", ROLE_ARN),
    ("external_id", EXTERNAL_ID),
    ("profile", PROFILE),
    ("topic_name", TOPIC_NAME),
    ("email", EMAIL),
    ("tag_key", TAG_KEY),
    ("tag_value", TAG_VALUE),
    ("bucket", BUCKET),
    ("state_key", STATE_KEY),
    ("dynamodb_table", DYNAMODB_TABLE),
    ("finding_status", FINDING_STATUS),
    ("finding_source", FINDING_SOURCE),
    ("severity", SEVERITY),
    ("resource_type", RESOURCE_TYPE),
    ("custom_pattern_name", CUSTOM_PATTERN_NAME),
    ("custom_pattern", CUSTOM_PATTERN),
    ("archive_rule_name", ARCHIVE_RULE_NAME),
    ("filter_key", FILTER_KEY),
    ("filter_value", FILTER_VALUE),
    ("schema_reference", SCHEMA_REFERENCE),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_identifier_rule() {
        assert!(is_valid_key("prod"));
        assert!(is_valid_key("prod-eu_2"));
        assert!(!is_valid_key("Prod"));
        assert!(!is_valid_key("2prod"));
        assert!(!is_valid_key(""));
        assert!(!is_valid_key(&"a".repeat(41)));
    }

    #[test]
    fn emails() {
        assert!(check_email("secops@example.com").is_ok());
        assert!(check_email("a.b+c@mail.example.co").is_ok());
        for bad in [
            "",
            "a",
            "a@b",
            "@b.com",
            "a@.com",
            "a b@c.com",
            "a@b.c",
            "a..b@c.com",
            "a@b_c.com",
        ] {
            assert!(check_email(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn role_arns() {
        assert_eq!(
            role_arn_account("arn:aws:iam::111111111111:role/x"),
            Some("111111111111")
        );
        assert_eq!(
            role_arn_account("arn:aws:iam::111111111111:role/path/x"),
            Some("111111111111")
        );
        assert_eq!(role_arn_account("arn:aws:iam::11111111111:role/x"), None);
        assert_eq!(role_arn_account("arn:aws:iam::111111111111:user/x"), None);
        assert_eq!(
            role_arn_account("arn:aws:iam::111111111111:role/x\"y"),
            None
        );
    }
}
