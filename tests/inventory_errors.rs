//! Every inventory validation rule, pinned with its field path, position and message.
//!
//! Each `rejects_*` test feeds an inventory with exactly one problem and checks the one
//! diagnostic it gets: the field path (`members.prod.account_id`), the line and column the
//! format gives, and the key parts of the message (what is wrong and what is allowed).
//! Positions are computed from the inventory text itself (`at`), so a test states which
//! token the diagnostic must point at rather than a hand-counted number.

mod common;

use fanin::diagnostics::{Diagnostic, Diagnostics, Location};
use fanin::inventory::{self, Format, Inventory, Spanned};
use std::path::Path;

const FILE: &str = "fanin.toml";

/// A valid start of an inventory: version and hub, lines 1-5. Tests append members.
const HUB: &str = "\
version = 1

[hub]
account_id = \"111111111111\"
region     = \"eu-west-1\"
";

/// A valid member, to append to `HUB`.
const PROD: &str = "
[members.prod]
account_id = \"222222222222\"
";

/// A valid backend section, to append.
const BACKEND: &str = "[backend]
bucket = \"acme-state\"
region = \"eu-west-1\"
key    = \"fanin/{stack}/terraform.tfstate\"
";

fn parse(text: &str, format: Format) -> Result<Inventory, Diagnostics> {
    inventory::parse(text, format, Path::new(FILE))
}

/// All problems of a TOML inventory that must be refused.
fn problems(text: &str) -> Vec<Diagnostic> {
    problems_in(text, Format::Toml)
}

fn problems_in(text: &str, format: Format) -> Vec<Diagnostic> {
    match parse(text, format) {
        Ok(inv) => panic!("inventory accepted, expected problems:\n{text}\n{inv:#?}"),
        Err(d) => {
            for one in &d.0 {
                assert_eq!(one.file, Path::new(FILE), "{one}");
            }
            schema_refuses_it_too(text, format, &d);
            d.0
        }
    }
}

/// Problems only `fanin check` finds, by what their messages say: rules that compare one
/// value with another, what a custom pattern's JSON holds, and the parser's, which JSON
/// Schema cannot state (the README's "Editor support").
const BEYOND_THE_SCHEMA: &[&str] = &[
    // Each account once.
    "is already used by",
    // Member keys differ from hub.name.
    "is the hub's name (hub.name)",
    // Role ARNs in their account.
    "but account_id is",
    // Addresses and archive rule names are compared ignoring case.
    "each address gets one subscription",
    "is named twice",
    // JSON's parser.
    "duplicate key",
    // What a custom pattern's JSON text holds (the schema sees a string that starts with {).
    "is not JSON (",
    "has no \"source\" list of texts",
    "has a \"detail-type\" that is not a list of texts",
];

/// `fanin schema` refuses every refused inventory here too, unless each of its problems is
/// one the schema cannot state.
fn schema_refuses_it_too(text: &str, format: Format, found: &Diagnostics) {
    let beyond = |d: &Diagnostic| BEYOND_THE_SCHEMA.iter().any(|b| d.message.contains(b));
    if found.0.iter().all(beyond) {
        return;
    }
    assert!(
        common::schema_verdict(text, format).is_err(),
        "the schema accepts an inventory fanin refuses with\n{found}\n--- {format:?}\n{text}"
    );
}

/// The single problem of a TOML inventory that has exactly one.
fn problem(text: &str) -> Diagnostic {
    one(problems(text), text)
}

fn one(mut found: Vec<Diagnostic>, text: &str) -> Diagnostic {
    assert_eq!(
        found.len(),
        1,
        "expected exactly one problem in\n{text}\ngot:\n{}",
        Diagnostics(found.clone())
    );
    found.remove(0)
}

fn accepted(text: &str) -> Inventory {
    parse(text, Format::Toml).unwrap_or_else(|d| panic!("refused:\n{text}\n{d}"))
}

/// Line and column (1-based, in characters) of the only occurrence of `needle` in `text`.
fn at(text: &str, needle: &str) -> Location {
    let mut hits = text.match_indices(needle);
    let (offset, _) = hits
        .next()
        .unwrap_or_else(|| panic!("{needle:?} not in\n{text}"));
    assert!(hits.next().is_none(), "{needle:?} is not unique in\n{text}");
    at_offset(text, offset)
}

/// Line and column of the last occurrence of `needle`.
fn at_last(text: &str, needle: &str) -> Location {
    let offset = text
        .rfind(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in\n{text}"));
    at_offset(text, offset)
}

fn at_offset(text: &str, offset: usize) -> Location {
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Location {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
    }
}

/// Checks one diagnostic: field path, position, and that the message says each fragment.
fn assert_problem(d: &Diagnostic, field: &str, location: Option<Location>, says: &[&str]) {
    assert_eq!(d.field, field, "field of: {d}");
    assert_eq!(d.location, location, "location of: {d}");
    for fragment in says {
        assert!(
            d.message.contains(fragment),
            "message does not say {fragment:?}: {d}"
        );
    }
}

fn with_prod(extra_member_lines: &str) -> String {
    format!("{HUB}{PROD}{extra_member_lines}")
}

/// `HUB` with extra lines in the [hub] table, and `PROD`.
fn with_hub_lines(hub_lines: &str) -> String {
    format!("{HUB}{hub_lines}{PROD}")
}

/// A [settings] table before the hub.
fn with_settings(settings: &str) -> String {
    let (version, rest) = HUB.split_once('\n').unwrap();
    format!("{version}\n\n[settings]\n{settings}{rest}{PROD}")
}

fn with_notify(notify: &str) -> String {
    format!("{HUB}\n[notify]\n{notify}{PROD}")
}

fn with_tags(tags: &str) -> String {
    format!("{HUB}{PROD}\n[tags]\n{tags}")
}

#[test]
fn base_inventories_are_valid() {
    let inv = accepted(&with_prod(""));
    assert_eq!(inv.members.len(), 1);
    assert_eq!(inv.members[0].key.value, "prod");
    for example in [
        "examples/minimal/fanin.toml",
        "examples/multi-region/fanin.toml",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(example);
        let inv = inventory::load(&path).unwrap_or_else(|d| panic!("{example}:\n{d}"));
        fanin::model::build(&inv, &path).unwrap_or_else(|d| panic!("{example}:\n{d}"));
    }
}

// ---------------------------------------------------------------------------------------
// Unknown keys

#[test]
fn rejects_unknown_top_level_key() {
    let text = format!(
        "version = 1\nverison = 2\n{}{PROD}",
        HUB.strip_prefix("version = 1\n").unwrap()
    );
    let d = problem(&text);
    assert_problem(
        &d,
        "verison",
        Some(at(&text, "verison")),
        &[
            "unknown field `verison`",
            "allowed: version, settings, hub, notify, findings, archive, members, tags",
        ],
    );
}

#[test]
fn rejects_unknown_key_in_settings() {
    let text = with_settings("prefix = \"fanin\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "settings.prefix",
        Some(at(&text, "prefix =")),
        &["unknown field `prefix`", "allowed: name_prefix, role_name"],
    );
}

#[test]
fn rejects_unknown_key_in_hub() {
    let text = with_hub_lines("regoin     = \"us-east-1\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "hub.regoin",
        Some(at(&text, "regoin")),
        &[
            "unknown field `regoin` (did you mean `region`?)",
            "allowed: ",
            "region, regions",
        ],
    );
}

#[test]
fn a_misspelt_required_field_is_one_problem_not_two() {
    // `regoin` instead of `region`: the unknown field names the one that is then missing.
    let text = with_prod("").replace("region     = ", "regoin     = ");
    let d = problem(&text);
    assert_problem(
        &d,
        "hub.regoin",
        Some(at(&text, "regoin")),
        &["unknown field `regoin` (did you mean `region`?)"],
    );
    // A required field that is simply absent is still reported.
    let text = with_prod("").replace("region     = \"eu-west-1\"\n", "");
    let d = problem(&text);
    assert_problem(&d, "hub.region", Some(at(&text, "[hub]")), &["missing"]);
    // ...also when a field that is allowed looks like it (`regions` is not a typo).
    let text = with_prod("").replace(
        "region     = \"eu-west-1\"\n",
        "regions = [\"us-east-1\"]\n",
    );
    let d = problem(&text);
    assert_problem(&d, "hub.region", Some(at(&text, "[hub]")), &["missing"]);
}

#[test]
fn unknown_names_far_from_every_field_get_no_suggestion() {
    let text = with_prod("colour = \"blue\"\n");
    let d = problem(&text);
    assert!(!d.message.contains("did you mean"), "{d}");
}

#[test]
fn rejects_unknown_key_in_notify() {
    let text = with_notify("email = \"secops@example.com\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "notify.email",
        Some(at(&text, "email =")),
        &["unknown field `email`", "allowed: emails, topic_name"],
    );
}

#[test]
fn rejects_unknown_key_in_member() {
    let text = with_prod("region = \"eu-west-1\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.prod.region",
        Some(at(&text, "region = ")),
        &[
            "unknown field `region` (did you mean `regions`?)",
            "allowed: account_id, regions",
        ],
    );
}

#[test]
fn rejects_unknown_key_in_tags_table_only_by_tag_rules() {
    // Tags are free-form: any valid tag name is accepted, there is no list of known keys.
    let inv = accepted(&with_tags(
        "Owner = \"secops\"\n\"Cost Center\" = \"1234\"\n",
    ));
    let keys: Vec<&str> = inv.tags.iter().map(|(k, _)| k.value.as_str()).collect();
    assert_eq!(keys, ["Owner", "Cost Center"], "tags keep file order");
}

// ---------------------------------------------------------------------------------------
// Version

#[test]
fn rejects_missing_version() {
    let text = format!("{}{PROD}", HUB.strip_prefix("version = 1\n").unwrap());
    let d = problem(&text);
    assert_problem(&d, "version", None, &["missing", "version = 1"]);
}

#[test]
fn rejects_unsupported_version() {
    let text = with_prod("").replacen("version = 1", "version = 2", 1);
    let d = problem(&text);
    assert_problem(
        &d,
        "version",
        Some(at(&text, "2\n")),
        &["version 2 is not supported", "allowed: 1"],
    );
}

#[test]
fn rejects_version_that_is_not_an_integer() {
    let text = with_prod("").replacen("version = 1", "version = \"1\"", 1);
    let d = problem(&text);
    assert_problem(
        &d,
        "version",
        Some(at(&text, "\"1\"")),
        &["expected the integer 1", "found a string"],
    );
}

// ---------------------------------------------------------------------------------------
// Required parts

#[test]
fn rejects_missing_hub() {
    let text = format!("version = 1\n{PROD}");
    let d = problem(&text);
    assert_problem(
        &d,
        "hub",
        None,
        &["missing", "[hub]", "account_id and region"],
    );
}

#[test]
fn rejects_hub_without_account_id_pointing_at_the_hub_table() {
    let text = with_prod("").replace("account_id = \"111111111111\"\n", "");
    let d = problem(&text);
    assert_problem(
        &d,
        "hub.account_id",
        Some(at(&text, "[hub]")),
        &["missing", "required"],
    );
}

#[test]
fn rejects_member_without_account_id() {
    let text = format!("{HUB}\n[members.prod]\nregions = [\"eu-west-1\"]\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.prod.account_id",
        Some(at(&text, "[members.prod]")),
        &["missing", "required"],
    );
}

#[test]
fn rejects_missing_members() {
    let d = problem(HUB);
    assert_problem(
        &d,
        "members",
        None,
        &["missing", "at least one member account", "[members.<key>]"],
    );
}

#[test]
fn rejects_zero_members() {
    let text = format!("{HUB}\n[members]\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "members",
        Some(at(&text, "[members]")),
        &["no member accounts", "at least one", "[members.<key>]"],
    );
}

// ---------------------------------------------------------------------------------------
// Account ids

#[test]
fn rejects_account_id_shorter_than_12_digits() {
    let text = with_prod("").replace("222222222222", "22222222222");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.prod.account_id",
        Some(at(&text, "\"22222222222\"")),
        &[
            "\"22222222222\" is not an AWS account id",
            "allowed: exactly 12 digits",
        ],
    );
}

#[test]
fn rejects_account_id_with_letters() {
    let text = with_prod("").replace("222222222222", "22222222222a");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.prod.account_id",
        Some(at(&text, "\"22222222222a\"")),
        &["is not an AWS account id", "exactly 12 digits"],
    );
}

#[test]
fn rejects_hub_account_id_longer_than_12_digits() {
    let text = with_prod("").replace("111111111111", "1111111111111");
    let d = problem(&text);
    assert_problem(
        &d,
        "hub.account_id",
        Some(at(&text, "\"1111111111111\"")),
        &["is not an AWS account id", "exactly 12 digits"],
    );
}

#[test]
fn rejects_account_id_written_as_an_integer() {
    let text = with_prod("").replace("\"222222222222\"", "222222222222");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.prod.account_id",
        Some(at(&text, "222222222222")),
        &[
            "expected a string of 12 digits, found an integer",
            "quote it",
            "leading zeros",
        ],
    );
}

#[test]
fn rejects_duplicate_account_id() {
    // The second occurrence in file order is the one reported, naming the first.
    let text = with_prod("\n[members.dev]\naccount_id = \"222222222222\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.dev.account_id",
        Some(at_last(&text, "\"222222222222\"")),
        &[
            "account id 222222222222 is already used by members.prod.account_id",
            "each account appears once",
        ],
    );
}

#[test]
fn rejects_duplicate_account_id_whatever_the_key_order() {
    // Keys sorting before the first one must not swap who is "first".
    let text = with_prod("\n[members.alpha]\naccount_id = \"222222222222\"\n");
    let d = problem(&text);
    assert_eq!(d.field, "members.alpha.account_id", "{d}");
    assert!(d.message.contains("already used by members.prod"), "{d}");
}

#[test]
fn rejects_member_with_the_hub_account_id() {
    let text = with_prod("\n[members.dev]\naccount_id = \"111111111111\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.dev.account_id",
        Some(at_last(&text, "\"111111111111\"")),
        &["account id 111111111111 is already used by hub.account_id"],
    );
}

// ---------------------------------------------------------------------------------------
// Account keys

const KEY_RULE: &str = "allowed: a lowercase letter, then lowercase letters, digits, `_` or `-`, at most 40 characters";

fn member_named(key: &str) -> String {
    format!("{HUB}\n[members.{key}]\naccount_id = \"222222222222\"\n")
}

/// Where `key` is written in its `[members.<key>]` header.
fn member_key_at(text: &str, key: &str) -> Location {
    let header = at(text, &format!("[members.{key}]"));
    Location {
        line: header.line,
        column: header.column + "[members.".len(),
    }
}

#[test]
fn rejects_account_key_with_uppercase() {
    let text = member_named("Prod");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.Prod",
        Some(member_key_at(&text, "Prod")),
        &[
            "`Prod` is not a valid account key",
            KEY_RULE,
            "uses keys as they are written",
        ],
    );
}

#[test]
fn rejects_account_key_starting_with_a_digit() {
    let text = member_named("1prod");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.1prod",
        Some(member_key_at(&text, "1prod")),
        &["`1prod` is not a valid account key", KEY_RULE],
    );
}

#[test]
fn rejects_account_key_longer_than_40_characters() {
    let forty = "a".repeat(40);
    accepted(&member_named(&forty));
    let key = "a".repeat(41);
    let text = member_named(&key);
    let d = problem(&text);
    assert_problem(
        &d,
        &format!("members.{key}"),
        Some(member_key_at(&text, &key)),
        &["is not a valid account key", "at most 40 characters"],
    );
}

#[test]
fn rejects_account_key_with_a_space() {
    let text = member_named("\"my prod\"");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.\"my prod\"",
        Some(member_key_at(&text, "\"my prod\"")),
        &["`my prod` is not a valid account key", KEY_RULE],
    );
}

#[test]
fn never_renames_account_keys() {
    // A valid key is kept byte for byte, down to the provider alias.
    let inv = accepted(&member_named("prod-eu_2"));
    assert_eq!(inv.members[0].key.value, "prod-eu_2");
    let model = fanin::model::build(&inv, Path::new(FILE)).expect("model");
    let alias = fanin::model::alias_for("prod-eu_2", "eu-west-1");
    assert_eq!(alias, "prod-eu_2_eu_west_1");
    assert!(model.providers().any(|p| p.alias == alias));
    // An invalid key is refused, not turned into a valid one.
    for bad in ["Prod", "\"prod.eu\"", "\"prod eu\"", "_prod"] {
        let d = problem(&member_named(bad));
        assert!(
            d.message.contains("is not a valid account key"),
            "{bad}: {d}"
        );
        // Keys are renamed on purpose by the rename workflow (moved blocks), never by fanin
        // behind the user's back: the message must not claim otherwise.
        assert!(!d.message.contains("never renames"), "{bad}: {d}");
    }
}

#[test]
fn rejects_member_key_equal_to_the_default_hub_name() {
    let text = member_named("hub");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.hub",
        Some(member_key_at(&text, "hub")),
        &[
            "the key `hub` is the hub's name (hub.name)",
            "must differ from it",
        ],
    );
}

#[test]
fn rejects_member_key_equal_to_the_hub_name() {
    let text = with_hub_lines("name       = \"prod\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.prod",
        Some(member_key_at(&text, "prod")),
        &["the key `prod` is the hub's name (hub.name)"],
    );
}

#[test]
fn rejects_invalid_hub_name() {
    let text = with_hub_lines("name       = \"Security\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "hub.name",
        Some(at(&text, "\"Security\"")),
        &["\"Security\" is not a valid name", KEY_RULE],
    );
}

// ---------------------------------------------------------------------------------------
// Regions

#[test]
fn rejects_unknown_region() {
    let text = with_prod("regions    = [\"eu-west-9\"]\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.prod.regions[0]",
        Some(at(&text, "\"eu-west-9\"")),
        &[
            "\"eu-west-9\" is not a region fanin knows",
            "(did you mean `eu-west-1`, `eu-west-2` or `eu-west-3`?)",
            "allowed: ",
            "eu-west-1",
            "us-gov-west-1",
            "cn-north-1",
        ],
    );
}

#[test]
fn the_region_list_is_shown_once_per_run() {
    let text = with_prod("regions    = [\"ap-northeast-9\", \"eu-wset-1\", \"mars-1\"]\n");
    let found = problems(&text);
    assert_eq!(found.len(), 3, "{}", Diagnostics(found.clone()));
    assert!(found[0].message.contains("us-gov-west-1"), "{}", found[0]);
    assert!(
        found[1].message.contains("(did you mean `eu-west-1`?)"),
        "{}",
        found[1]
    );
    assert!(!found[2].message.contains("did you mean"), "{}", found[2]);
    for later in &found[1..] {
        assert!(
            later
                .message
                .ends_with("; allowed: as listed for members.prod.regions[0] above"),
            "{later}"
        );
    }
}

#[test]
fn rejects_malformed_region() {
    let text = with_prod("").replace("\"eu-west-1\"", "\"Europe (Ireland)\"");
    let d = problem(&text);
    assert_problem(
        &d,
        "hub.region",
        Some(at(&text, "\"Europe")),
        &[
            "\"Europe (Ireland)\" is not a region name",
            "allowed: ",
            "eu-west-1",
        ],
    );
}

#[test]
fn rejects_duplicate_region_in_a_member_list() {
    let text = with_prod("regions    = [\"eu-west-1\", \"us-east-1\", \"eu-west-1\"]\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.prod.regions[2]",
        Some(at(&text, "\"eu-west-1\"]")),
        &[
            "region eu-west-1 is listed twice (also members.prod.regions[0])",
            "list each region once",
        ],
    );
}

#[test]
fn rejects_duplicate_region_in_hub_regions() {
    let text = with_hub_lines("regions    = [\"us-east-1\", \"us-east-1\"]\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "hub.regions[1]",
        Some(at(&text, "\"us-east-1\"]")),
        &["region us-east-1 is listed twice (also hub.regions[0])"],
    );
}

#[test]
fn rejects_home_region_in_hub_regions() {
    let text = with_hub_lines("regions    = [\"us-east-1\", \"eu-west-1\"]\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "hub.regions[1]",
        Some(at(&text, "\"eu-west-1\"]")),
        &[
            "eu-west-1 is the hub's home region (hub.region)",
            "only the other regions",
        ],
    );
}

#[test]
fn rejects_member_region_in_another_partition() {
    let text = with_prod("regions    = [\"eu-west-1\", \"us-gov-west-1\"]\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.prod.regions[1]",
        Some(at(&text, "\"us-gov-west-1\"")),
        &[
            "region us-gov-west-1 is in partition aws-us-gov",
            "home region eu-west-1 is in aws",
            "cannot cross partitions",
        ],
    );
}

#[test]
fn rejects_a_region_both_in_use_and_retired() {
    let both = with_prod(
        "regions    = [\"eu-west-1\", \"us-east-1\"]\nretired_regions = [\"us-east-1\"]\n",
    );
    // A member without regions uses the hub's home region; the hub always does.
    let implied = with_prod("retired_regions = [\"eu-west-1\"]\n");
    let hub = with_hub_lines("retired_regions = [\"eu-west-1\"]\n");
    for (text, field, region) in [
        (&both, "members.prod.retired_regions[0]", "us-east-1"),
        (&implied, "members.prod.retired_regions[0]", "eu-west-1"),
        (&hub, "hub.retired_regions[0]", "eu-west-1"),
    ] {
        let d = problem(text);
        assert_problem(
            &d,
            field,
            Some(at_last(text, &format!("\"{region}\""))),
            &[
                &format!("region {region} is both in use and retired"),
                "removed from regions",
            ],
        );
    }
    // Retiring a region the member no longer lists is the point of retired_regions.
    accepted(&with_prod(
        "regions    = [\"eu-west-1\"]\nretired_regions = [\"us-east-1\"]\n",
    ));
}

#[test]
fn rejects_hub_region_in_another_partition() {
    let text = with_hub_lines("regions    = [\"cn-north-1\"]\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "hub.regions[0]",
        Some(at(&text, "\"cn-north-1\"")),
        &["partition aws-cn", "cannot cross partitions"],
    );
}

#[test]
fn rejects_aws_member_of_a_gov_cloud_hub() {
    let text = with_prod("regions    = [\"us-east-1\"]\n").replace("eu-west-1", "us-gov-west-1");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.prod.regions[0]",
        Some(at(&text, "\"us-east-1\"")),
        &["partition aws,", "us-gov-west-1 is in aws-us-gov"],
    );
}

#[test]
fn rejects_empty_member_region_list() {
    let text = with_prod("regions    = []\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.prod.regions",
        Some(at(&text, "[]")),
        &["is empty", "leave it out to use the hub's home region"],
    );
}

// ---------------------------------------------------------------------------------------
// Notify

#[test]
fn rejects_malformed_email() {
    for bad in [
        "secops",
        "secops@",
        "@example.com",
        "sec ops@example.com",
        "secops@example",
        "secops@@example.com",
        "sec..ops@example.com",
    ] {
        let text = with_notify(&format!("emails = [\"secops@example.com\", \"{bad}\"]\n"));
        let d = problem(&text);
        assert_problem(
            &d,
            "notify.emails[1]",
            Some(at(&text, &format!("\"{bad}\"]"))),
            &["is not a valid email address", "allowed: name@example.com"],
        );
    }
}

#[test]
fn rejects_duplicate_email() {
    let text = with_notify("emails = [\"secops@example.com\", \"SecOps@Example.com\"]\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "notify.emails[1]",
        Some(at(&text, "\"SecOps")),
        &[
            "SecOps@Example.com` is listed twice (also notify.emails[0])",
            "one subscription",
        ],
    );
}

#[test]
fn rejects_bad_topic_name() {
    let text = with_notify("topic_name = \"findings.fifo\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "notify.topic_name",
        Some(at(&text, "\"findings.fifo\"")),
        &[
            "\"findings.fifo\" is not a valid SNS topic name",
            "allowed: 1 to 256 of letters, digits, - and _",
        ],
    );
}

// ---------------------------------------------------------------------------------------
// Access: role_arn / profile

#[test]
fn rejects_role_arn_and_profile_both_set() {
    let text = with_prod(
        "role_arn   = \"arn:aws:iam::222222222222:role/fanin\"\nprofile    = \"prod-admin\"\n",
    );
    let d = problem(&text);
    assert_problem(
        &d,
        "members.prod.profile",
        Some(at(&text, "profile ")),
        &["role_arn and profile are both set", "choose one"],
    );
}

#[test]
fn rejects_role_arn_and_profile_both_set_on_the_hub() {
    let text = with_hub_lines(
        "role_arn   = \"arn:aws:iam::111111111111:role/fanin\"\nprofile    = \"security\"\n",
    );
    let d = problem(&text);
    assert_eq!(d.field, "hub.profile");
    assert!(d.message.contains("both set"), "{d}");
}

#[test]
fn rejects_role_arn_in_another_account() {
    let text = with_prod("role_arn   = \"arn:aws:iam::333333333333:role/fanin\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.prod.role_arn",
        Some(at(&text, "\"arn:")),
        &[
            "role ARN is in account 333333333333 but account_id is 222222222222",
            "allowed_account_ids",
        ],
    );
}

#[test]
fn cross_field_problems_are_reported_whatever_else_is_broken() {
    // The account mismatch used to appear only once the other problems of the member
    // (both ways of access set, a bad region) were fixed.
    let text = with_prod(
        "role_arn   = \"arn:aws:iam::333333333333:role/fanin\"\nprofile    = \"prod\"\nregions    = [\"eu-wset-1\"]\n",
    );
    let found = problems(&text);
    let fields: Vec<&str> = found.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "members.prod.role_arn",
            "members.prod.profile",
            "members.prod.regions[0]"
        ],
        "{}",
        Diagnostics(found.clone())
    );
    assert!(
        found[0].message.contains("account 333333333333"),
        "{}",
        found[0]
    );
}

#[test]
fn yaml_cross_field_problems_come_with_the_others_in_one_run() {
    // An unquoted account id (an integer) used to hide every rule across the hub's fields.
    let text = "\
version: 1
hub:
  account_id: 111111111111
  region: eu-west-1
  regions: [eu-west-1, cn-north-1]
members:
  prod:
    account_id: \"111111111112\"
    role_arn: arn:aws:iam::999999999999:role/fanin
";
    let found = problems_in(text, Format::Yaml);
    let fields: Vec<&str> = found.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "hub.account_id",
            "hub.regions[0]",
            "hub.regions[1]",
            "members.prod.role_arn"
        ],
        "{}",
        Diagnostics(found.clone())
    );
    assert!(
        found[1].message.contains("the hub's home region"),
        "{}",
        found[1]
    );
    assert!(
        found[2].message.contains("partition aws-cn"),
        "{}",
        found[2]
    );
}

#[test]
fn rejects_hub_role_arn_in_another_account() {
    let text = with_hub_lines("role_arn   = \"arn:aws:iam::222222222222:role/fanin\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "hub.role_arn",
        Some(at(&text, "\"arn:")),
        &["role ARN is in account 222222222222 but account_id is 111111111111"],
    );
}

#[test]
fn rejects_malformed_role_arn() {
    for bad in [
        "arn:aws:iam::222222222222:user/fanin",
        "arn:aws:iam::22222222222:role/fanin",
        "arn:aws:sts::222222222222:role/fanin",
        "arn:aws-eu:iam::222222222222:role/fanin",
        "arn:aws:iam::222222222222:role/",
        "fanin-deploy",
    ] {
        let text = with_prod(&format!("role_arn   = \"{bad}\"\n"));
        let d = problem(&text);
        assert_problem(
            &d,
            "members.prod.role_arn",
            Some(at(&text, &format!("\"{bad}\""))),
            &[
                "is not an IAM role ARN",
                "allowed: arn:aws:iam::<12-digit account id>:role/<name>",
            ],
        );
    }
}

#[test]
fn rejects_empty_profile() {
    let text = with_prod("profile    = \" \"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.prod.profile",
        Some(at(&text, "\" \"")),
        &[
            "is not a usable profile name",
            "allowed: 1 to 128 printable ASCII",
        ],
    );
}

// ---------------------------------------------------------------------------------------
// Settings

#[test]
fn rejects_bad_name_prefix() {
    accepted(&with_settings(&format!(
        "name_prefix = \"{}\"\n",
        "a".repeat(20)
    )));
    let too_long = "a".repeat(21);
    for bad in ["Fanin", "fan_in", "", too_long.as_str(), "fanin!"] {
        let text = with_settings(&format!("name_prefix = \"{bad}\"\n"));
        let d = problem(&text);
        assert_problem(
            &d,
            "settings.name_prefix",
            Some(at(&text, &format!("\"{bad}\""))),
            &[
                &format!("{bad:?} is not a valid name prefix"),
                "allowed: 1 to 20 of a-z, 0-9 and -",
            ],
        );
    }
}

#[test]
fn rejects_bad_role_name() {
    let text = with_settings("role_name = \"fanin deploy\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "settings.role_name",
        Some(at(&text, "\"fanin deploy\"")),
        &["is not a valid IAM role name", "allowed: 1 to 64"],
    );
}

#[test]
fn rejects_bad_external_id_without_echoing_it() {
    let text = with_settings("external_id = \"s3cret with spaces\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "settings.external_id",
        Some(at(&text, "\"s3cret")),
        &["is not a valid external id", "allowed: 2 to 1224"],
    );
    assert!(!d.message.contains("s3cret"), "external id echoed: {d}");
}

// ---------------------------------------------------------------------------------------
// Tags

#[test]
fn rejects_tag_key_with_aws_prefix() {
    let text = with_tags("\"aws:owner\" = \"secops\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "tags.\"aws:owner\"",
        Some(at(&text, "\"aws:owner\"")),
        &["starting with aws: are reserved"],
    );
}

#[test]
fn rejects_tag_key_longer_than_128_characters() {
    accepted(&with_tags(&format!("{} = \"x\"\n", "k".repeat(128))));
    let key = "k".repeat(129);
    let text = with_tags(&format!("{key} = \"x\"\n"));
    let d = problem(&text);
    assert_problem(
        &d,
        &format!("tags.{key}"),
        Some(at(&text, &key)),
        &["is not a valid tag key", "allowed: 1 to 128"],
    );
}

#[test]
fn rejects_tag_key_with_interpolation() {
    let text = with_tags("\"${var.owner}\" = \"secops\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "tags.\"${var.owner}\"",
        Some(at(&text, "\"${")),
        &[
            "\"${var.owner}\" is not a valid tag key",
            "letters, digits, spaces and _.:/=+-@",
        ],
    );
}

#[test]
fn rejects_tag_value_with_interpolation() {
    for bad in [
        "${var.owner}",
        "%{ if true }x%{ endif }",
        "line\nbreak",
        "quo\"te",
    ] {
        let escaped = bad.replace('"', "\\\"").replace('\n', "\\n");
        let text = with_tags(&format!("Owner = \"{escaped}\"\n"));
        let d = problem(&text);
        assert_problem(
            &d,
            "tags.Owner",
            Some(at(&text, &format!("\"{escaped}\""))),
            &[
                "is not a valid tag value",
                "allowed: up to 256 letters, digits, spaces and _.:/=+-@",
            ],
        );
    }
}

#[test]
fn rejects_tag_value_longer_than_256_characters() {
    accepted(&with_tags(&format!("Owner = \"{}\"\n", "v".repeat(256))));
    let text = with_tags(&format!("Owner = \"{}\"\n", "v".repeat(257)));
    let d = problem(&text);
    assert_problem(
        &d,
        "tags.Owner",
        Some(at(&text, "\"vvv")),
        &["is not a valid tag value", "up to 256"],
    );
}

#[test]
fn rejects_tag_value_that_is_not_a_string() {
    let text = with_tags("Owner = 42\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "tags.Owner",
        Some(at(&text, "42")),
        &["expected a string, found an integer"],
    );
}

// ---------------------------------------------------------------------------------------
// Hub options

#[test]
fn rejects_unknown_intake_bus() {
    let text = with_hub_lines("intake_bus = \"shared\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "hub.intake_bus",
        Some(at(&text, "\"shared\"")),
        &[
            "unknown intake bus",
            "allowed: \"dedicated\"",
            "or \"default\"",
        ],
    );
}

// ---------------------------------------------------------------------------------------
// Wrong types

#[test]
fn rejects_string_where_a_boolean_is_expected() {
    let text = with_prod("create_analyzer = \"false\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.prod.create_analyzer",
        Some(at(&text, "\"false\"")),
        &["expected true or false, found a string"],
    );
}

#[test]
fn rejects_table_where_a_string_is_expected() {
    let text = with_prod("").replace("\"eu-west-1\"", "{ name = \"eu-west-1\" }");
    let d = problem(&text);
    assert_problem(
        &d,
        "hub.region",
        Some(at(&text, "{ name")),
        &["expected a string, found a table"],
    );
}

#[test]
fn rejects_string_where_a_list_is_expected() {
    let text = with_notify("emails = \"secops@example.com\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "notify.emails",
        Some(at(&text, "\"secops@")),
        &["expected a list of strings, found a string"],
    );
}

#[test]
fn rejects_member_that_is_not_a_table() {
    let text = format!("{HUB}\n[members]\nprod = \"222222222222\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.prod",
        Some(at(&text, "\"222222222222\"")),
        &["expected members.prod to be a table, found a string"],
    );
}

#[test]
fn rejects_settings_that_are_not_a_table() {
    let text = format!("settings = \"fanin\"\n{HUB}{PROD}");
    let d = problem(&text);
    assert_problem(
        &d,
        "settings",
        Some(at(&text, "\"fanin\"")),
        &["expected settings to be a table, found a string"],
    );
}

// ---------------------------------------------------------------------------------------
// All problems of a file together

#[test]
fn reports_all_problems_of_a_file_together_in_line_order() {
    let text = "\
version = 1

[settings]
name_prefix = \"Fanin\"

[hub]
account_id = \"11111111111\"
region     = \"eu-west-1\"
regoin     = \"eu-west-2\"

[notify]
emails = [\"secops@example\"]

[members.prod]
account_id = \"222222222222\"
regions    = [\"eu-west-1\", \"eu-west-1\"]
";
    let found = problems(text);
    let fields: Vec<&str> = found.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "settings.name_prefix",
            "hub.account_id",
            "hub.regoin",
            "notify.emails[0]",
            "members.prod.regions[1]",
        ],
        "{}",
        Diagnostics(found.clone())
    );
    let lines: Vec<usize> = found.iter().map(|d| d.location.unwrap().line).collect();
    assert_eq!(lines, [4, 7, 9, 12, 16]);

    let shown = Diagnostics(found).to_string();
    let printed: Vec<&str> = shown.lines().collect();
    assert_eq!(printed.len(), 6, "{shown}");
    assert!(
        printed[0].starts_with("error: fanin.toml:4:15: settings.name_prefix: \"Fanin\" is not"),
        "{shown}"
    );
    assert!(
        printed[2].starts_with("error: fanin.toml:9:1: hub.regoin: unknown field"),
        "{shown}"
    );
    assert_eq!(printed[5], "5 problems found");
}

#[test]
fn reports_problems_across_fields_together() {
    let text = format!(
        "{}name       = \"security\"\n{}",
        HUB,
        "
[members.security]
account_id = \"333333333333\"

[members.prod]
account_id = \"333333333333\"
regions    = [\"us-gov-east-1\"]
role_arn   = \"arn:aws:iam::444444444444:role/fanin\"
"
    );
    let found = problems(&text);
    let fields: Vec<&str> = found.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "members.security",
            "members.prod.account_id",
            "members.prod.regions[0]",
            "members.prod.role_arn",
        ],
        "{}",
        Diagnostics(found.clone())
    );
}

// ---------------------------------------------------------------------------------------
// Model-level rules

/// An inventory with `n` members `m0`, `m1`, ... with distinct account ids.
fn with_members(n: usize) -> Inventory {
    let mut text = HUB.to_string();
    for i in 0..n {
        text.push_str(&format!(
            "\n[members.m{i}]\naccount_id = \"{:012}\"\n",
            200_000_000_000u64 + i as u64
        ));
    }
    accepted(&text)
}

fn build(inv: &Inventory) -> Result<fanin::model::Model, Diagnostics> {
    fanin::model::build(inv, Path::new(FILE))
}

/// Members per intake bus, in bus order.
fn bus_sizes(model: &fanin::model::Model) -> Vec<usize> {
    model.intake_buses.iter().map(|b| b.members.len()).collect()
}

#[test]
fn members_past_one_bus_policy_go_to_a_second_bus() {
    let model = build(&with_members(400)).expect("400 members fit in two buses");
    let sizes = bus_sizes(&model);
    // One principal ARN and a comma per member in one statement: about 300 per bus.
    assert_eq!(sizes.len(), 2, "{sizes:?}");
    assert!((250..350).contains(&sizes[0]), "{sizes:?}");
    assert_eq!(sizes.iter().sum::<usize>(), 400);
    let fit = sizes[0];
    for bus in &model.intake_buses {
        assert!(
            bus.policy_len <= fanin::model::BUS_POLICY_QUOTA,
            "{}",
            bus.name
        );
    }
    assert_eq!(bus_sizes(&build(&with_members(fit)).unwrap()), [fit]);
    assert_eq!(bus_sizes(&build(&with_members(fit + 1)).unwrap()), [fit, 1]);
    assert_eq!(model.intake_buses[1].name, "fanin-intake-2");
}

/// `with_members(n)` with `bus_policy_quota = quota` in its settings.
fn with_members_and_quota(n: usize, quota: u64) -> Inventory {
    let mut inv = with_members(n);
    let text = format!(
        "version = 1\n[settings]\nbus_policy_quota = {quota}\n{}",
        HUB.strip_prefix("version = 1\n").unwrap()
    );
    inv.settings = accepted(&(text + PROD)).settings;
    inv
}

#[test]
fn a_raised_bus_policy_quota_lets_more_members_share_a_bus() {
    assert_eq!(
        bus_sizes(&build(&with_members_and_quota(400, 20_480)).unwrap()),
        [400]
    );
    // A quota below the default is what the hub has if AWS lowered it: more buses, each
    // within the quota.
    let model = build(&with_members_and_quota(400, 2_048)).unwrap();
    assert!(model.intake_buses.len() > 6, "{:?}", bus_sizes(&model));
    for bus in &model.intake_buses {
        assert!(bus.policy_len <= 2_048, "{}: {}", bus.name, bus.policy_len);
    }
}

#[test]
fn rejects_a_bus_policy_quota_too_small_for_one_member() {
    let d = build(&with_members_and_quota(1, 100)).expect_err("no member fits 100 characters");
    let d = one(d.0, "quota 100");
    assert_eq!(d.field, "settings.bus_policy_quota", "{d}");
    assert!(d.location.is_some(), "{d}");
    assert!(
        d.message
            .contains("an intake bus policy naming one member takes ")
            && d.message.contains("over the hub's quota of 100"),
        "{d}"
    );
}

#[test]
fn members_keep_their_bus_and_a_lowered_quota_says_which_bus_is_over() {
    let model = build(&with_members(400)).unwrap();
    let earlier: fanin::model::EarlierBuses = model
        .intake_buses
        .iter()
        .flat_map(|b| b.members.iter().map(|id| (id.clone(), b.number)))
        .collect();
    // The second bus's members stay there even though the first bus now has room.
    let mut fewer = with_members(400);
    let first_bus_member = &model.intake_buses[0].members[0];
    fewer
        .members
        .retain(|m| m.account_id.value != *first_bus_member);
    let again = fanin::model::build_after(&fewer, Path::new(FILE), &earlier).unwrap();
    assert_eq!(again.intake_buses[1].members, model.intake_buses[1].members);
    let d = fanin::model::build_after(
        &with_members_and_quota(400, 4_000),
        Path::new(FILE),
        &earlier,
    )
    .expect_err("the members of fanin-intake no longer fit");
    let d = one(d.0, "lowered quota");
    assert_eq!(d.field, "settings.bus_policy_quota", "{d}");
    assert!(
        d.message.contains("the intake bus fanin-intake admits ")
            && d.message
                .contains("set settings.bus_policy_quota to at least "),
        "{d}"
    );
}

#[test]
fn rejects_a_bus_policy_quota_that_is_not_a_positive_whole_number() {
    for (value, message) in [
        (
            "0",
            "0 is not a count; allowed: a whole number of at least 1",
        ),
        (
            "-5",
            "-5 is not a count; allowed: a whole number of at least 1",
        ),
        ("\"10240\"", "expected a whole number, found a string"),
        ("1.5", "expected a whole number, found a float"),
    ] {
        let text = format!(
            "version = 1\n[settings]\nbus_policy_quota = {value}\n{}{PROD}",
            HUB.strip_prefix("version = 1\n").unwrap()
        );
        let d = problem(&text);
        assert_eq!(d.field, "settings.bus_policy_quota", "{d}");
        assert_eq!(d.message, message, "{text}");
    }
}

#[test]
fn a_longer_partition_name_fits_fewer_members_per_bus() {
    // Every member's principal names the partition (`arn:aws-us-gov:iam::...`).
    let first_bus = |inv: &Inventory| bus_sizes(&build(inv).unwrap())[0];
    let commercial = with_members(400);
    let mut gov = commercial.clone();
    gov.hub.region.value = "us-gov-west-1".to_string();
    assert!(first_bus(&gov) < first_bus(&commercial));
}

#[test]
fn no_two_accounts_can_share_a_provider_alias() {
    // Aliases are `<key>_<region with _>`. Keys are checked to differ (hub name included) and
    // regions to be known and listed once; two different (key, region) pairs could then only
    // spell the same alias if one known region, written with `_`, ended with `_` + another.
    let all: Vec<&str> = ["aws", "aws-cn", "aws-us-gov"]
        .into_iter()
        .flat_map(fanin::regions::names_in)
        .collect();
    for a in &all {
        for b in &all {
            let (a_, b_) = (a.replace('-', "_"), b.replace('-', "_"));
            assert!(
                a == b || !a_.ends_with(&format!("_{b_}")),
                "{a} and {b} could make two accounts share an alias"
            );
        }
    }
    let inv = accepted(&with_prod(
        "\n[members.prod_eu]\naccount_id = \"333333333333\"\nregions    = [\"eu-west-1\"]\n",
    ));
    let model = build(&inv).expect("model");
    let mut aliases: Vec<&str> = model.providers().map(|p| p.alias.as_str()).collect();
    let count = aliases.len();
    aliases.sort();
    aliases.dedup();
    assert_eq!(aliases.len(), count, "{aliases:?}");
}

// ---------------------------------------------------------------------------------------
// YAML and JSON

const MULTI_REGION_YAML: &str = "\
# the same inventory as examples/multi-region/fanin.toml
version: 1

settings:
  name_prefix: secfan
  role_name: fanin-deploy
  external_id: fanin-7f3a9c

hub:
  name: security
  account_id: \"111111111111\"
  region: eu-west-1
  regions: [us-east-1]

notify:
  emails:
    - secops@example.com
    - oncall@example.com
  topic_name: access-analyzer-findings

members:
  prod:
    account_id: \"222222222222\"
    regions: [eu-west-1, us-east-1, ap-northeast-1]
  staging:
    account_id: \"333333333333\"
    regions: [eu-west-1]
    role_arn: arn:aws:iam::333333333333:role/platform/fanin-staging
  sandbox:
    account_id: \"444444444444\"
    regions: [eu-west-1, us-east-1]
    profile: sandbox-admin
    create_analyzer: false

tags:
  Owner: secops
  Cost Center: \"security:1234\"
  ManagedBy: fanin
";

const MULTI_REGION_JSON: &str = r#"{
  "version": 1,
  "settings": {
    "name_prefix": "secfan",
    "role_name": "fanin-deploy",
    "external_id": "fanin-7f3a9c"
  },
  "hub": {
    "name": "security",
    "account_id": "111111111111",
    "region": "eu-west-1",
    "regions": ["us-east-1"]
  },
  "notify": {
    "emails": ["secops@example.com", "oncall@example.com"],
    "topic_name": "access-analyzer-findings"
  },
  "members": {
    "prod": {
      "account_id": "222222222222",
      "regions": ["eu-west-1", "us-east-1", "ap-northeast-1"]
    },
    "staging": {
      "account_id": "333333333333",
      "regions": ["eu-west-1"],
      "role_arn": "arn:aws:iam::333333333333:role/platform/fanin-staging"
    },
    "sandbox": {
      "account_id": "444444444444",
      "regions": ["eu-west-1", "us-east-1"],
      "profile": "sandbox-admin",
      "create_analyzer": false
    }
  },
  "tags": {
    "Owner": "secops",
    "Cost Center": "security:1234",
    "ManagedBy": "fanin"
  }
}
"#;

/// The inventory without source positions, which naturally differ between formats.
fn without_positions(mut inv: Inventory) -> Inventory {
    fn clear(s: &mut Spanned<String>) {
        s.location = None;
    }
    let settings = &mut inv.settings;
    for s in [
        &mut settings.name_prefix,
        &mut settings.role_name,
        &mut settings.external_id,
    ]
    .into_iter()
    .flatten()
    {
        clear(s);
    }
    inv.hub.name.iter_mut().for_each(clear);
    clear(&mut inv.hub.account_id);
    clear(&mut inv.hub.region);
    inv.hub.regions.iter_mut().for_each(clear);
    inv.hub.role_arn.iter_mut().for_each(clear);
    inv.hub.profile.iter_mut().for_each(clear);
    inv.notify.emails.iter_mut().for_each(clear);
    inv.notify.topic_name.iter_mut().for_each(clear);
    for m in &mut inv.members {
        clear(&mut m.key);
        clear(&mut m.account_id);
        m.regions.iter_mut().for_each(clear);
        m.role_arn.iter_mut().for_each(clear);
        m.profile.iter_mut().for_each(clear);
    }
    for (k, v) in &mut inv.tags {
        clear(k);
        clear(v);
    }
    inv
}

#[test]
fn yaml_and_json_inventories_equal_their_toml_form() {
    let toml = include_str!("../examples/multi-region/fanin.toml");
    let from_toml = accepted(toml);
    let from_yaml = parse(MULTI_REGION_YAML, Format::Yaml).unwrap_or_else(|d| panic!("{d}"));
    let from_json = parse(MULTI_REGION_JSON, Format::Json).unwrap_or_else(|d| panic!("{d}"));

    let keys: Vec<&str> = from_toml
        .members
        .iter()
        .map(|m| m.key.value.as_str())
        .collect();
    assert_eq!(
        keys,
        ["prod", "staging", "sandbox"],
        "members in file order"
    );

    let expected = without_positions(from_toml.clone());
    assert_eq!(without_positions(from_yaml.clone()), expected, "YAML");
    assert_eq!(without_positions(from_json.clone()), expected, "JSON");

    let model = build(&from_toml).expect("model");
    assert_eq!(build(&from_yaml).expect("YAML model"), model);
    assert_eq!(build(&from_json).expect("JSON model"), model);

    // YAML keeps positions too.
    assert_eq!(
        from_yaml.members[1].account_id.location,
        Some(at(MULTI_REGION_YAML, "\"333333333333\""))
    );
}

#[test]
fn yaml_value_errors_carry_line_and_column() {
    let text = "\
version: 1
hub:
  account_id: \"111111111111\"
  region: eu-west-1
members:
  prod:
    account_id: \"2222\"
    regoins: [eu-west-1]
";
    let found = problems_in(text, Format::Yaml);
    assert_eq!(found.len(), 2, "{}", Diagnostics(found.clone()));
    assert_problem(
        &found[0],
        "members.prod.account_id",
        Some(at(text, "\"2222\"")),
        &["is not an AWS account id", "exactly 12 digits"],
    );
    assert_problem(
        &found[1],
        "members.prod.regoins",
        Some(at(text, "regoins")),
        &["unknown field `regoins`"],
    );
}

#[test]
fn yaml_unquoted_account_id_is_explained() {
    let text = "\
version: 1
hub:
  account_id: 111111111111
  region: eu-west-1
members:
  prod:
    account_id: \"222222222222\"
";
    let d = one(problems_in(text, Format::Yaml), text);
    assert_problem(
        &d,
        "hub.account_id",
        Some(at(text, "111111111111")),
        &["found an integer", "quote it"],
    );
}

#[test]
fn yaml_syntax_error_carries_line_and_column() {
    let text = "version: 1\nhub:\n  account_id: \"111111111111\"\n region: eu-west-1\n";
    let d = one(problems_in(text, Format::Yaml), text);
    assert_eq!(d.field, "");
    assert!(d.message.starts_with("not valid YAML: "), "{d}");
    let location = d.location.unwrap_or_else(|| panic!("no position: {d}"));
    assert_eq!(location.line, 4, "{d}");
    assert!(!d.message.contains("line 4"), "position printed twice: {d}");
}

#[test]
fn yaml_rejects_duplicate_keys() {
    let text = "version: 1\nhub:\n  account_id: \"111111111111\"\n  region: eu-west-1\n  region: us-east-1\n";
    let d = one(problems_in(text, Format::Yaml), text);
    assert!(d.message.contains("duplicate"), "{d}");
    assert!(d.message.contains("region"), "{d}");
    assert!(!d.message.contains("Options"), "library advice leaked: {d}");
    assert_eq!(d.location.map(|l| l.line), Some(5), "{d}");
}

#[test]
fn json_syntax_error_carries_line_and_column() {
    let text = "{\n  \"version\": 1,\n  \"hub\": {\n    \"region\" \"eu-west-1\"\n  }\n}\n";
    let d = one(problems_in(text, Format::Json), text);
    assert_eq!(d.field, "");
    assert_eq!(
        d.location,
        Some(Location {
            line: 4,
            column: 14
        }),
        "{d}"
    );
    assert_eq!(d.message, "not valid JSON: expected `:`");
    assert_eq!(
        d.to_string(),
        "fanin.toml:4:14: not valid JSON: expected `:`"
    );
}

#[test]
fn json_value_errors_name_the_field() {
    let text = r#"{"version": 1,
 "hub": {"account_id": "111111111111", "region": "eu-west-1"},
 "members": {"prod": {"account_id": "2222"}}}"#;
    let d = one(problems_in(text, Format::Json), text);
    assert_eq!(d.field, "members.prod.account_id");
    assert!(d.message.contains("exactly 12 digits"), "{d}");
}

#[test]
fn advice_is_written_in_the_syntax_of_the_inventory() {
    // A JSON or YAML user told to write `[members.<key>]` (TOML) is told something they
    // cannot paste.
    let json = r#"{"hub": {"region": "eu-west-1"}}"#;
    let found = problems_in(json, Format::Json);
    let says = |field: &str| -> String {
        found
            .iter()
            .find(|d| d.field == field)
            .unwrap_or_else(|| panic!("no problem for {field}: {}", Diagnostics(found.clone())))
            .message
            .clone()
    };
    assert!(
        says("version").contains("`\"version\": 1`"),
        "{}",
        says("version")
    );
    assert!(
        says("members").contains(r#""members": {"<key>": {...}}"#),
        "{}",
        says("members")
    );
    assert!(!says("members").contains('['), "{}", says("members"));

    let yaml = "version: 1\nmembers:\n  prod:\n    account_id: \"222222222222\"\n";
    let d = one(problems_in(yaml, Format::Yaml), yaml);
    assert_problem(&d, "hub", None, &["missing", "hub: {...}"]);
    let yaml = "version: 1\nhub:\n  account_id: \"111111111111\"\n  region: eu-west-1\n";
    let d = one(problems_in(yaml, Format::Yaml), yaml);
    assert_problem(&d, "members", None, &["missing", "members: {<key>: {...}}"]);
}

#[test]
fn json_rejects_duplicate_member_keys() {
    // A second "prod" must not silently replace the first.
    let text = r#"{"version": 1,
 "hub": {"account_id": "111111111111", "region": "eu-west-1"},
 "members": {
   "prod": {"account_id": "222222222222"},
   "prod": {"account_id": "333333333333"}
 }}"#;
    let d = one(problems_in(text, Format::Json), text);
    assert!(d.message.contains("duplicate key `prod`"), "{d}");
    assert_eq!(d.location.map(|l| l.line), Some(5), "{d}");
}

#[test]
fn toml_rejects_duplicate_keys_naming_them() {
    let text = format!("{HUB}{PROD}account_id = \"333333333333\"\n");
    let d = problem(&text);
    assert_eq!(d.field, "");
    assert!(d.message.starts_with("not valid TOML: "), "{d}");
    assert!(d.message.contains("duplicate key `account_id`"), "{d}");
    assert_eq!(d.location.map(|l| l.line), Some(9), "{d}");
}

#[test]
fn toml_syntax_error_carries_line_and_column() {
    let text = "version = 1\n\n[hub\naccount_id = \"111111111111\"\n";
    let d = problem(text);
    assert_eq!(d.field, "");
    assert_eq!(d.location, Some(Location { line: 3, column: 5 }), "{d}");
    assert!(d.message.starts_with("not valid TOML: "), "{d}");
    assert!(d.message.contains("expected `]`"), "{d}");
}

// ---------------------------------------------------------------------------------------
// Files

fn load_problem(name: &str, bytes: &[u8]) -> (std::path::PathBuf, Diagnostic) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    let found = inventory::load(&path).expect_err("file accepted");
    assert_eq!(found.0.len(), 1, "{found}");
    let d = found.0.into_iter().next().unwrap();
    assert_eq!(d.file, path);
    assert_eq!(d.field, "");
    assert_eq!(d.location, None);
    (path, d)
}

/// A valid inventory padded with a comment to exactly `len` bytes.
fn padded(len: usize) -> Vec<u8> {
    let text = with_prod("");
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"# ");
    bytes.resize(len - 1, b'x');
    bytes.push(b'\n');
    bytes
}

#[test]
fn loads_a_file_of_exactly_1_mib() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("fanin.toml");
    std::fs::write(&path, padded(1024 * 1024)).expect("write");
    inventory::load(&path).unwrap_or_else(|d| panic!("{d}"));
}

#[test]
fn refuses_a_file_larger_than_1_mib() {
    let (_, d) = load_problem("fanin.toml", &padded(1024 * 1024 + 1));
    assert!(d.message.contains("larger than 1024 KiB"), "{d}");
    assert!(d.message.contains("short text file"), "{d}");
}

#[test]
fn refuses_a_binary_file() {
    let mut bytes = with_prod("").into_bytes();
    bytes.extend_from_slice(b"\0\x01\x02");
    let (_, d) = load_problem("fanin.toml", &bytes);
    assert!(d.message.contains("binary file, not text"), "{d}");
}

#[test]
fn refuses_a_non_utf8_file() {
    let mut bytes = b"version = 1\n# caf".to_vec();
    let offset = bytes.len();
    bytes.extend_from_slice(b"\xe9\n");
    let (_, d) = load_problem("fanin.toml", &bytes);
    assert!(d.message.contains("not UTF-8 text"), "{d}");
    assert!(
        d.message.contains(&format!("offset {offset}")),
        "offset of the bad byte: {d}"
    );
}

#[test]
fn refuses_an_unknown_extension() {
    let (path, d) = load_problem("fanin.ini", with_prod("").as_bytes());
    assert!(d.message.contains("unknown inventory format"), "{d}");
    assert!(d.message.contains(".toml, .yaml, .yml or .json"), "{d}");
    assert!(d.to_string().starts_with(&path.display().to_string()));
}

#[test]
fn refuses_a_missing_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("absent.toml");
    let found = inventory::load(&path).expect_err("missing file accepted");
    assert!(
        found.0[0].message.contains("cannot read the inventory"),
        "{found}"
    );
}

#[test]
fn chooses_the_format_by_extension() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in [
        ("inv.yaml", MULTI_REGION_YAML),
        ("inv.YML", MULTI_REGION_YAML),
        ("inv.json", MULTI_REGION_JSON),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        inventory::load(&path).unwrap_or_else(|d| panic!("{name}: {d}"));
    }
}

#[test]
fn rejects_role_arn_in_another_partition() {
    let text = with_prod("role_arn   = \"arn:aws-cn:iam::222222222222:role/fanin\"\n");
    let d = problem(&text);
    assert_problem(
        &d,
        "members.prod.role_arn",
        Some(at(&text, "\"arn:")),
        &[
            "role ARN is in partition aws-cn",
            "allowed: arn:aws:iam::<account id>:role/<name>",
        ],
    );
}

#[test]
fn reports_cross_field_problems_even_when_another_member_is_broken() {
    // `broken` cannot be read at all (bad account id), yet the duplicate between `a` and
    // `b` must still be reported in the same run.
    let text = format!(
        "{HUB}
[members.a]
account_id = \"222222222222\"

[members.b]
account_id = \"222222222222\"

[members.broken]
account_id = \"nope\"
"
    );
    let found = problems(&text);
    let fields: Vec<&str> = found.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        ["members.b.account_id", "members.broken.account_id"],
        "{}",
        Diagnostics(found.clone())
    );
    assert!(
        found[0]
            .message
            .contains("already used by members.a.account_id")
    );
}

#[test]
fn rejects_more_than_50_tags() {
    let tags: String = (0..51).map(|i| format!("T{i} = \"v\"\n")).collect();
    let text = format!("{HUB}{PROD}\n[tags]\n{tags}");
    let d = problem(&text);
    assert_problem(
        &d,
        "tags",
        Some(at(&text, "[tags]")),
        &["51 tags", "at most 50"],
    );
    let fifty: String = (0..50).map(|i| format!("T{i} = \"v\"\n")).collect();
    accepted(&format!("{HUB}{PROD}\n[tags]\n{fifty}"));
}

#[test]
fn a_byte_order_mark_is_ignored_in_every_format() {
    let toml_text = format!("\u{feff}{HUB}{PROD}");
    let json_text = "\u{feff}{\"version\": 1, \"hub\": {\"account_id\": \"111111111111\", \"region\": \"eu-west-1\"}, \"members\": {\"prod\": {\"account_id\": \"222222222222\"}}}";
    let yaml_text = "\u{feff}version: 1\nhub:\n  account_id: \"111111111111\"\n  region: eu-west-1\nmembers:\n  prod:\n    account_id: \"222222222222\"\n";
    let from_toml = accepted(&toml_text);
    for (text, format) in [(json_text, Format::Json), (yaml_text, Format::Yaml)] {
        let inv = parse(text, format).unwrap_or_else(|d| panic!("{format:?} refused: {d}"));
        assert_eq!(inv.hub.account_id.value, from_toml.hub.account_id.value);
        assert_eq!(inv.members.len(), 1);
    }
}

/// The names each section allows, in its "unknown field" message, are its table's entries:
/// one list, so a field added to a table is allowed and named there with nothing else to edit.
#[test]
fn unknown_field_messages_list_each_sections_table() {
    let sections = inventory::sections();
    let paths: Vec<&str> = sections.iter().map(|s| s.path).collect();
    assert_eq!(
        paths,
        [
            "",
            "settings",
            "hub",
            "notify",
            "findings",
            "archive[]",
            "archive[].filter.<property>",
            "members.<key>",
            "backend"
        ],
        "a section without a test here"
    );
    for section in &sections {
        let names = section.names();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{}: a name twice", section.path);
        let (text, field) = match section.path {
            "" => (format!("zzz = 1\n{HUB}{PROD}"), "zzz".to_string()),
            "members.<key>" => (format!("{HUB}{PROD}zzz = 1\n"), "members.prod.zzz".into()),
            "hub" => (
                HUB.replace("[hub]\n", "[hub]\nzzz = 1\n") + PROD,
                "hub.zzz".into(),
            ),
            "backend" => (
                format!("{HUB}{PROD}\n{BACKEND}zzz = 1\n"),
                "backend.zzz".into(),
            ),
            "archive[]" => (
                format!(
                    "{HUB}{PROD}\n[[archive]]\nname = \"a\"\nfilter.x = {{ eq = [\"1\"] }}\nzzz = 1\n"
                ),
                "archive[0].zzz".into(),
            ),
            "archive[].filter.<property>" => (
                format!(
                    "{HUB}{PROD}\n[[archive]]\nname = \"a\"\nfilter.x = {{ eq = [\"1\"], zzz = 1 }}\n"
                ),
                "archive[0].filter.x.zzz".into(),
            ),
            path => (
                format!("{HUB}{PROD}\n[{path}]\nzzz = 1\n"),
                format!("{path}.zzz"),
            ),
        };
        let d = problem(&text);
        assert_eq!(d.field, field, "{text}");
        assert_eq!(
            d.message,
            format!("unknown field `zzz`; allowed: {}", names.join(", ")),
            "{text}"
        );
    }
}

#[test]
fn a_backend_section_is_read_as_written() {
    let inv = accepted(&format!(
        "{HUB}{PROD}\n{BACKEND}dynamodb_table = \"locks\"\nprofile = \"state\"\n"
    ));
    let backend = inv.backend.expect("a backend");
    assert_eq!(backend.bucket.value, "acme-state");
    assert_eq!(backend.key.value, "fanin/{stack}/terraform.tfstate");
    assert_eq!(backend.dynamodb_table.unwrap().value, "locks");
    assert_eq!(backend.profile.unwrap().value, "state");
    assert!(accepted(&format!("{HUB}{PROD}")).backend.is_none());
}

#[test]
fn rejects_a_backend_that_would_mix_or_lose_states() {
    let cases = [
        (
            BACKEND.replace("fanin/{stack}/terraform.tfstate", "fanin/terraform.tfstate"),
            "backend.key",
            "is not a state key pattern; allowed: letters, digits and !-_.*'()/ with {stack} exactly once",
        ),
        (
            BACKEND.replace("fanin/{stack}/", "fanin/{stack}/{stack}/"),
            "backend.key",
            "with {stack} exactly once",
        ),
        (
            BACKEND.replace("fanin/{stack}/", "fanin//{stack}/"),
            "backend.key",
            "no empty path segment",
        ),
        (
            BACKEND.replace("acme-state", "Acme_State"),
            "backend.bucket",
            "is not an S3 bucket name",
        ),
        (
            format!("{BACKEND}use_lockfile = false\n"),
            "backend.use_lockfile",
            "the state would have no lock; allowed: use_lockfile = true (the default), or a dynamodb_table",
        ),
        (
            format!("{BACKEND}role_arn = \"arn:aws:iam::999999999999:role/s\"\nprofile = \"p\"\n"),
            "backend.profile",
            "role_arn and profile are both set",
        ),
        (
            BACKEND.replace("bucket = \"acme-state\"\n", ""),
            "backend.bucket",
            "missing; this field is required",
        ),
    ];
    for (backend, field, message) in cases {
        let text = format!("{HUB}{PROD}\n{backend}");
        let d = problem(&text);
        assert_eq!(d.field, field, "{text}\n{d}");
        assert!(d.message.contains(message), "{text}\n{d}");
    }
    // A DynamoDB table is a lock of its own.
    accepted(&format!(
        "{HUB}{PROD}\n{BACKEND}use_lockfile = false\ndynamodb_table = \"locks\"\n"
    ));
}

#[test]
fn rejects_an_unknown_layout() {
    let text = format!(
        "version = 1\n[settings]\nlayout = \"stack\"\n{}{PROD}",
        HUB.strip_prefix("version = 1\n").unwrap()
    );
    let d = problem(&text);
    assert_eq!(d.field, "settings.layout");
    assert!(
        d.message
            .starts_with("\"stack\" is not a layout; allowed: \"single\""),
        "{d}"
    );
}

/// `[findings]` and `[[archive]]` read as written: statuses, rule names, each property with
/// its comparisons, in file order.
#[test]
fn findings_and_archive_rules_are_read_as_written() {
    let inv = accepted(&format!(
        "{HUB}{PROD}
[findings]
statuses = [\"RESOLVED\", \"ACTIVE\"]

[[archive]]
name = \"known-partner\"
filter.\"principal.AWS\" = {{ eq = [\"444444444444\"] }}

[[archive]]
name = \"Public.website_2\"
filter.resourceType = {{ eq = [\"AWS::S3::Bucket\"], neq = [\"x\"] }}
filter.\"condition.aws:SourceIp\" = {{ contains = [\"10.\"], exists = true }}
"
    ));
    let statuses: Vec<&str> = inv
        .findings
        .statuses
        .iter()
        .map(|s| s.value.as_str())
        .collect();
    assert_eq!(statuses, ["RESOLVED", "ACTIVE"]);
    let names: Vec<&str> = inv.archive.iter().map(|r| r.name.value.as_str()).collect();
    assert_eq!(names, ["known-partner", "Public.website_2"]);
    let second = &inv.archive[1];
    let properties: Vec<&str> = second
        .filter
        .iter()
        .map(|c| c.property.value.as_str())
        .collect();
    assert_eq!(properties, ["resourceType", "condition.aws:SourceIp"]);
    assert_eq!(second.filter[0].eq[0].value, "AWS::S3::Bucket");
    assert_eq!(second.filter[0].neq[0].value, "x");
    assert_eq!(second.filter[1].contains[0].value, "10.");
    assert_eq!(second.filter[1].exists, Some(true));
    assert_eq!(second.filter[0].exists, None);
}

/// Every way an archive rule or a status list can be wrong is reported at its field, with
/// what is allowed, and nothing else is.
#[test]
fn bad_findings_and_archive_rules_are_refused_with_what_is_allowed() {
    let rule = |body: &str| format!("{HUB}{PROD}\n[[archive]]\n{body}");
    let cases: Vec<(String, &str, &str)> = vec![
        (
            format!("{HUB}{PROD}\n[findings]\nstatuses = [\"NEW\"]\n"),
            "findings.statuses[0]",
            "allowed: \"ACTIVE\", \"ARCHIVED\" or \"RESOLVED\"",
        ),
        (
            format!("{HUB}{PROD}\n[findings]\nstatuses = [\"ACTIVE\", \"ACTIVE\"]\n"),
            "findings.statuses[1]",
            "listed twice",
        ),
        (
            format!("{HUB}{PROD}\n[findings]\nstatuses = []\n"),
            "findings.statuses",
            "no finding would reach anyone",
        ),
        (
            format!("{HUB}{PROD}\n[findings]\nsources = [\"guard-duty\"]\n"),
            "findings.sources[0]",
            "is not a finding source (did you mean `guardduty`?); allowed: \"external-access\", \"unused-access\", \"internal-access\", \"guardduty\" or \"security-hub\"",
        ),
        (
            format!("{HUB}{PROD}\n[findings]\nsources = [\"guardduty\", \"guardduty\"]\n"),
            "findings.sources[1]",
            "listed twice",
        ),
        (
            format!("{HUB}{PROD}\n[findings]\nsources = []\n"),
            "findings.sources",
            "no finding would reach anyone",
        ),
        (
            format!(
                "{HUB}{PROD}\n[findings]\nsources = [\"guardduty\"]\nmin_severity = \"high\"\n"
            ),
            "findings.min_severity",
            "allowed: \"LOW\", \"MEDIUM\", \"HIGH\" or \"CRITICAL\"",
        ),
        (
            format!("{HUB}{PROD}\n[findings]\nmin_severity = \"HIGH\"\n"),
            "findings.min_severity",
            "filters GuardDuty and Security Hub findings, and findings.sources has neither",
        ),
        (
            format!(
                "{HUB}{PROD}\n[findings]\nsources = [\"security-hub\"]\nstatuses = [\"ACTIVE\"]\n"
            ),
            "findings.statuses",
            "filters Access Analyzer findings, and findings.sources has none",
        ),
        (
            format!(
                "{HUB}{PROD}\n[findings]\nsources = [\"guardduty\"]\nresource_types = [\"AWS::S3::Bucket\"]\n"
            ),
            "findings.resource_types",
            "filters Access Analyzer findings, and findings.sources has none",
        ),
        (
            format!("{HUB}{PROD}\n[findings]\nresource_types = [\"S3::Bucket\"]\n"),
            "findings.resource_types[0]",
            "is not a resource type; allowed: AWS::<service>::<type> of letters and digits",
        ),
        (
            format!(
                "{HUB}{PROD}\n[findings.custom_patterns]\nMacie = '{{\"source\": [\"aws.macie\"]}}'\n"
            ),
            "findings.custom_patterns.Macie",
            "is not a pattern name; allowed: a lowercase letter, then lowercase letters, digits and -, at most 16 characters",
        ),
        (
            format!(
                "{HUB}{PROD}\n[findings.custom_patterns]\nmacie = '{{\"source\": [\"aws.macie\"]'\n"
            ),
            "findings.custom_patterns.macie",
            "is not JSON (",
        ),
        (
            format!("{HUB}{PROD}\n[findings.custom_patterns]\nmacie = '[\"aws.macie\"]'\n"),
            "findings.custom_patterns.macie",
            "is not a JSON object",
        ),
        (
            format!(
                "{HUB}{PROD}\n[findings.custom_patterns]\nmacie = '{{\"detail-type\": [\"Macie Finding\"]}}'\n"
            ),
            "findings.custom_patterns.macie",
            "has no \"source\" list of texts; the members forward the events of the sources it names and no others",
        ),
        (
            format!(
                "{HUB}{PROD}\n[findings.custom_patterns]\nmacie = '{{\"source\": [{{\"prefix\": \"aws.\"}}]}}'\n"
            ),
            "findings.custom_patterns.macie",
            "has no \"source\" list of texts",
        ),
        (
            format!(
                "{HUB}{PROD}\n[findings.custom_patterns]\nmacie = '{{\"source\": [\"aws.macie\"], \"detail-type\": \"Macie Finding\"}}'\n"
            ),
            "findings.custom_patterns.macie",
            "has a \"detail-type\" that is not a list of texts",
        ),
        (
            format!(
                "{HUB}{PROD}\n[findings.custom_patterns]\nmacie = '{{\"source\": [\"{}\"]}}'\n",
                "a".repeat(2100)
            ),
            "findings.custom_patterns.macie",
            "characters; EventBridge's default event pattern quota is 2048",
        ),
        (
            format!("{HUB}{PROD}\n[findings]\ncustom_patterns = \"macie\"\n"),
            "findings.custom_patterns",
            "expected a table of names to texts, found",
        ),
        (
            format!("{HUB}{PROD}\n[notify]\nlog_days = 100\n"),
            "notify.log_days",
            "100 days is not a period offered here; allowed: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400",
        ),
        (
            format!("{HUB}{PROD}\n[notify]\narchive_days = 0\n"),
            "notify.archive_days",
            "at least 1",
        ),
        (
            format!("{HUB}{PROD}\n[findings]\nresource_types = []\n"),
            "findings.resource_types",
            "no Access Analyzer finding would reach anyone",
        ),
        (
            format!(
                "{}{PROD}",
                HUB.replace("version = 1\n", "version = 1\narchive = \"x\"\n")
            ),
            "archive",
            "expected a list of archive rules ([[archive]] tables)",
        ),
        (
            rule("filter.x = { eq = [\"1\"] }\n"),
            "archive[0].name",
            "missing; this field is required",
        ),
        (
            rule("name = \"1st\"\nfilter.x = { eq = [\"1\"] }\n"),
            "archive[0].name",
            "allowed: a letter, then letters, digits, _, . and -",
        ),
        (
            rule("name = \"a\"\n"),
            "archive[0].filter",
            "missing; this field is required",
        ),
        (
            rule("name = \"a\"\nfilter = {}\n"),
            "archive[0].filter",
            "the rule would archive every finding",
        ),
        (
            rule("name = \"a\"\nfilter = \"resourceType\"\n"),
            "archive[0].filter",
            "expected a table of finding properties",
        ),
        (
            rule("name = \"a\"\nfilter.\"a b\" = { eq = [\"1\"] }\n"),
            "archive[0].filter.\"a b\"",
            "is not a finding property",
        ),
        (
            rule("name = \"a\"\nfilter.x = {}\n"),
            "archive[0].filter.x",
            "compares with nothing; allowed: eq, neq or contains",
        ),
        (
            rule("name = \"a\"\nfilter.x = { eq = [] }\n"),
            "archive[0].filter.x.eq",
            "has 0 values; allowed: 1 to 20",
        ),
        (
            rule(&format!(
                "name = \"a\"\nfilter.x = {{ neq = [{}] }}\n",
                vec!["\"v\""; 21].join(", ")
            )),
            "archive[0].filter.x.neq",
            "has 21 values; allowed: 1 to 20",
        ),
        (
            rule("name = \"a\"\nfilter.x = { contains = [\"a\\nb\"] }\n"),
            "archive[0].filter.x.contains[0]",
            "no control characters",
        ),
        (
            rule("name = \"a\"\nfilter.x = { exists = \"yes\" }\n"),
            "archive[0].filter.x.exists",
            "expected true or false",
        ),
        (
            rule(
                "name = \"a\"\nfilter.x = { eq = [\"1\"] }\n\n[[archive]]\nname = \"A\"\nfilter.y = { eq = [\"2\"] }\n",
            ),
            "archive[1].name",
            "named twice (also archive[0])",
        ),
    ];
    for (text, field, says) in cases {
        let d = problem(&text);
        assert_eq!(d.field, field, "{text}\n{d}");
        assert!(d.message.contains(says), "{text}\n{d}");
        assert!(d.location.is_some(), "no location: {d}");
    }
}

/// `"$schema"` (where editors find the schema) is allowed at the top level as one line of
/// text, and nothing else.
#[test]
fn the_schema_reference_is_one_line_of_text() {
    accepted(&format!(
        "\"$schema\" = \"./fanin.schema.json\"\n{HUB}{PROD}"
    ));
    let text = format!("\"$schema\" = 1\n{HUB}{PROD}");
    let found = problem(&text);
    assert_eq!(found.field, "$schema");
    assert_eq!(found.location, Some(at(&text, "1\nversion")));
    assert!(found.message.contains("expected a string"), "{found}");
    let text = format!("\"$schema\" = \"a\\nb\"\n{HUB}{PROD}");
    let found = problem(&text);
    assert_eq!(found.field, "$schema");
    assert!(
        found.message.contains("is not a schema reference"),
        "{found}"
    );
}
