//! `fanin init --from-aws-config` and `--from-csv`: an inventory drafted from the profiles of
//! an AWS CLI config file or a CSV list of accounts generates, and everything it leaves out is
//! reported with the reason.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

fn config() -> PathBuf {
    common::repo().join("tests/fixtures/aws-config")
}

fn init(dir: &Path, file: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    common::fanin()
        .current_dir(dir)
        .args(["init", file, "--from-aws-config"])
        .arg(config())
        .args(["--hub", "security"])
        .args(extra)
        .assert()
}

#[test]
fn drafts_one_member_per_usable_profile_and_reports_every_other() {
    let work = tempfile::tempdir().unwrap();
    let out = init(
        work.path(),
        "fanin.toml",
        &["--email", "secops@example.com"],
    )
    .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();

    // Every profile left out, in file order, with its reason.
    let expected = [
        (r#"profile "default""#, "names no account"),
        (
            r#"profile "staging-readonly""#,
            "names account 333333333333, already the member reached through profile \"staging\"",
        ),
        (
            r#"profile "audit""#,
            "names account 111111111111, the hub's account",
        ),
        (
            r#"profile "broken-sso""#,
            "has sso_account_id \"12345\", which is not an account id",
        ),
        (r#"profile "broken-role""#, "which is not an IAM role ARN"),
        (
            r#"profile "two-accounts""#,
            "names two accounts, 555555555555 (sso_account_id) and 666666666666 (role_arn)",
        ),
        (
            r#"profile "prod-admin""#,
            "would be named prod-admin, like profile \"Prod.Admin\"",
        ),
        (
            r#"section "[legacy]""#,
            "is not a profile: a config file names profiles `[profile NAME]`",
        ),
    ];
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), expected.len(), "{stderr}");
    for (line, (what, reason)) in warnings.iter().zip(expected) {
        assert!(line.contains(&format!("left out {what}: ")), "{line}");
        assert!(line.contains(reason), "{line}\nexpected: {reason}");
    }
    assert!(
        stdout.contains("the hub and 3 members, 8 left out"),
        "{stdout}"
    );

    // The members, each reached through its own profile; the hub named after its profile.
    let text = fs::read_to_string(work.path().join("fanin.toml")).unwrap();
    let inventory: toml::Table = text.parse().unwrap();
    assert_eq!(inventory["hub"]["name"].as_str(), Some("security"));
    assert_eq!(
        inventory["hub"]["account_id"].as_str(),
        Some("111111111111")
    );
    assert_eq!(inventory["hub"]["region"].as_str(), Some("eu-west-1"));
    assert_eq!(inventory["hub"]["profile"].as_str(), Some("security"));
    let members = inventory["members"].as_table().unwrap();
    let found: Vec<(&str, &str, &str)> = members
        .iter()
        .map(|(key, m)| {
            (
                key.as_str(),
                m["account_id"].as_str().unwrap(),
                m["profile"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("prod-admin", "222222222222", "Prod.Admin"),
            ("staging", "333333333333", "staging"),
            (
                "team----path-cwd--",
                "888888888888",
                r#"team "${path.cwd}""#
            ),
        ]
    );
    // The file says what it leaves out, for whoever reviews it.
    assert!(
        text.contains("# - profile \"two-accounts\": names two accounts"),
        "{text}"
    );

    // It generates, and the profile written like code stays a string in the tree.
    let tree = work.path().join("tree");
    common::generate(&work.path().join("fanin.toml"), &tree);
    let providers = fs::read_to_string(tree.join("providers.tf")).unwrap();
    assert!(
        providers.contains(r#"profile             = "team \"$${path.cwd}\"""#),
        "{providers}"
    );
}

#[test]
fn drafts_yaml_and_json_that_generate_too() {
    for file in ["fanin.yaml", "fanin.json"] {
        let work = tempfile::tempdir().unwrap();
        init(
            work.path(),
            file,
            &[
                "--regions",
                "eu-west-1,us-east-1",
                "--hub-region",
                "eu-west-1",
            ],
        )
        .success();
        let tree = work.path().join("tree");
        common::generate(&work.path().join(file), &tree);
        let main = fs::read_to_string(tree.join("main.tf")).unwrap();
        assert!(
            main.contains(r#"module "spoke_staging_us_east_1""#),
            "{file}: {main}"
        );
    }
}

#[test]
fn refuses_what_cannot_make_a_hub_and_writes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let unreadable = work.path().join("unreadable");
    fs::write(
        &unreadable,
        "[profile a]\nsso_account_id = 111111111111\nnot a setting\n",
    )
    .unwrap();
    let cases: [(Vec<String>, &str); 5] = [
        (
            vec!["--hub".into(), "securty".into()],
            "no profile \"securty\" in the file; --hub names the hub account's profile",
        ),
        (
            vec!["--hub".into(), "default".into()],
            "the hub profile \"default\" names no account",
        ),
        (
            vec!["--hub".into(), "staging".into()],
            "the hub profile \"staging\" sets no region; give the hub's home region with --hub-region",
        ),
        (
            vec![
                "--hub".into(),
                "security".into(),
                "--regions".into(),
                "eu-west-9".into(),
            ],
            "--regions: \"eu-west-9\" is not a region fanin knows",
        ),
        (
            vec![
                "--hub".into(),
                "security".into(),
                "--email".into(),
                "secops".into(),
            ],
            "--email: \"secops\" is not a valid email address",
        ),
    ];
    for (flags, message) in cases {
        let out = common::fanin()
            .current_dir(work.path())
            .args(["init", "fanin.toml", "--from-aws-config"])
            .arg(config())
            .args(&flags)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(stderr.contains(message), "{flags:?}: {stderr}");
        assert!(stderr.contains("aws-config"), "names the file: {stderr}");
    }
    let out = common::fanin()
        .current_dir(work.path())
        .args([
            "init",
            "fanin.toml",
            "--from-aws-config",
            "unreadable",
            "--hub",
            "a",
        ])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("unreadable: cannot be read as an AWS CLI config file near line"),
        "{stderr}"
    );

    // Only the hub's account, and a profile that names none: no member to draft.
    let lonely = work.path().join("lonely");
    fs::write(
        &lonely,
        "[profile a]\nsso_account_id = 111111111111\nregion = eu-west-1\n[profile b]\nregion = eu-west-1\n",
    )
    .unwrap();
    common::fanin()
        .current_dir(work.path())
        .args(["init", "fanin.toml", "--from-aws-config", "lonely", "--hub", "a"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "lonely: no member account besides the hub; an inventory needs at least one (left out: profile \"b\": names no account",
        ));
    assert!(!work.path().join("fanin.toml").exists(), "nothing written");
}

#[test]
fn reads_aws_config_file_by_default_and_never_overwrites() {
    let work = tempfile::tempdir().unwrap();
    fs::write(work.path().join("fanin.toml"), "mine").unwrap();
    common::fanin()
        .current_dir(work.path())
        .env("AWS_CONFIG_FILE", config())
        .args([
            "init",
            "fanin.toml",
            "--from-aws-config",
            "--hub",
            "security",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "already exists; fanin init never overwrites a file",
        ));
    assert_eq!(
        fs::read_to_string(work.path().join("fanin.toml")).unwrap(),
        "mine"
    );
    common::fanin()
        .current_dir(work.path())
        .env("AWS_CONFIG_FILE", config())
        .args([
            "init",
            "other.toml",
            "--from-aws-config",
            "--hub",
            "security",
        ])
        .assert()
        .success();
    assert!(work.path().join("other.toml").is_file());
}

fn accounts_csv() -> PathBuf {
    common::repo().join("tests/fixtures/accounts.csv")
}

#[test]
fn drafts_one_member_per_valid_row_and_reports_every_other() {
    let work = tempfile::tempdir().unwrap();
    let out = common::fanin()
        .current_dir(work.path())
        .args(["init", "fanin.toml", "--from-csv"])
        .arg(accounts_csv())
        .args(["--hub", "security", "--regions", "eu-west-1"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let expected = [
        (6, "Bad Key", "key \"Bad Key\" is not a valid name"),
        (7, "short", "\"12345\" is not an AWS account id"),
        (8, "nowhere", "\"eu-west-9\" is not a region fanin knows"),
        (9, "twice", "lists region eu-west-1 twice"),
        (10, "both", "gives both a profile and a role_arn"),
        (
            11,
            "elsewhere",
            "is in account 999999999999, not 888888888888",
        ),
        (12, "prod-copy", "account 222222222222 is already on line 4"),
        (13, "prod", "key prod is already on line 4"),
        (
            14,
            "audit",
            "account 111111111111 is already on the hub's row",
        ),
    ];
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), expected.len(), "{stderr}");
    for (line, (number, key, reason)) in warnings.iter().zip(expected) {
        assert!(
            line.contains(&format!("left out line {number} (\"{key}\"): ")),
            "{line}"
        );
        assert!(line.contains(reason), "{line}\nexpected: {reason}");
    }

    let inventory: toml::Table = fs::read_to_string(work.path().join("fanin.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let hub = &inventory["hub"];
    assert_eq!(hub["name"].as_str(), Some("security"));
    assert_eq!(hub["region"].as_str(), Some("eu-west-1"));
    assert_eq!(hub["regions"].as_array().unwrap().len(), 1, "us-east-1");
    let members = inventory["members"].as_table().unwrap();
    assert_eq!(
        members.keys().collect::<Vec<_>>(),
        ["dev", "prod", "staging"]
    );
    assert_eq!(
        members["prod"]["role_arn"].as_str(),
        Some("arn:aws:iam::222222222222:role/fanin-deploy")
    );
    assert_eq!(
        members["staging"]["profile"].as_str(),
        Some("staging-admin")
    );
    // A row without regions gets --regions; one with regions keeps its own.
    assert_eq!(members["dev"]["regions"].as_array().unwrap().len(), 1);
    assert_eq!(members["prod"]["regions"].as_array().unwrap().len(), 2);
    common::generate(&work.path().join("fanin.toml"), &work.path().join("tree"));
}

#[test]
fn refuses_a_csv_list_without_its_columns_or_its_hub() {
    let work = tempfile::tempdir().unwrap();
    for (list, hub, message) in [
        (
            "key,account,regions\nhub,111111111111,eu-west-1\n",
            "hub",
            "the header row names a column \"account\"; allowed: key, account_id, regions, profile, role_arn",
        ),
        (
            "key,regions\nhub,eu-west-1\n",
            "hub",
            "the header row must name the columns key and account_id",
        ),
        (
            "key,account_id,regions\nsecurity,111111111111,eu-west-1\n",
            "securty",
            "no row with the key \"securty\"; --hub names the hub's row (did you mean `security`?)",
        ),
        (
            "key,account_id\nsecurity,111111111111\n",
            "security",
            "the hub's row (line 2) lists no region; list its home region first, or give --hub-region",
        ),
        (
            "key,account_id,regions\nsecurity,1111,eu-west-1\n",
            "security",
            "the hub's row (line 2): \"1111\" is not an AWS account id",
        ),
    ] {
        fs::write(work.path().join("accounts.csv"), list).unwrap();
        let out = common::fanin()
            .current_dir(work.path())
            .args([
                "init",
                "fanin.toml",
                "--from-csv",
                "accounts.csv",
                "--hub",
                hub,
            ])
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            stderr.contains(&format!("accounts.csv: {message}")),
            "{list}: {stderr}"
        );
        assert!(!work.path().join("fanin.toml").exists(), "nothing written");
    }
}

mod drafted_from_anything {
    //! Whatever a config file or a CSV list holds, a draft either is refused with a message or
    //! is an inventory that loads and models: never a panic, never a file generate refuses.

    use fanin::inventory::draft::{Choices, from_aws_config, from_csv};
    use fanin::inventory::{self, Format};
    use proptest::prelude::*;
    use std::path::Path;

    /// Text a user might put in a name or a value: letters, digits, punctuation that means
    /// something to INI, CSV, TOML, YAML or HCL, spaces, and non-ASCII.
    fn word() -> impl Strategy<Value = String> {
        proptest::string::string_regex(r#"[a-zA-Z0-9 _.:/@"'${}\[\]=;,#é-]{0,24}"#).unwrap()
    }

    fn account() -> impl Strategy<Value = String> {
        prop_oneof![
            (100_000_000_000u64..100_000_000_010).prop_map(|n| n.to_string()),
            word(),
        ]
    }

    fn profile_section() -> impl Strategy<Value = String> {
        (
            word(),
            proptest::option::of(account()),
            proptest::option::of(account()),
            proptest::option::of(prop_oneof![Just("eu-west-1".to_string()), word()]),
        )
            .prop_map(|(name, sso, role_account, region)| {
                let mut text = format!("[profile {name}]\n");
                if let Some(id) = sso {
                    text += &format!("sso_account_id = {id}\n");
                }
                if let Some(id) = role_account {
                    text += &format!("role_arn = arn:aws:iam::{id}:role/fanin\n");
                }
                if let Some(region) = region {
                    text += &format!("region = {region}\n");
                }
                text
            })
    }

    fn check_draft(text: &str, format: Format) {
        let path = Path::new(match format {
            Format::Toml => "fanin.toml",
            Format::Yaml => "fanin.yaml",
            Format::Json => "fanin.json",
        });
        let inventory = inventory::parse(text, format, path)
            .unwrap_or_else(|e| panic!("the draft does not load:\n{e}\n---\n{text}"));
        fanin::model::build(&inventory, path)
            .unwrap_or_else(|e| panic!("the draft does not model:\n{e}\n---\n{text}"));
    }

    const FORMATS: [Format; 3] = [Format::Toml, Format::Yaml, Format::Json];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn a_config_file_drafts_an_inventory_that_loads_or_is_refused(
            sections in proptest::collection::vec(profile_section(), 1..6),
            hub in 0usize..6,
            format in 0usize..3,
        ) {
            let config = sections.concat();
            let names: Vec<String> = sections
                .iter()
                .map(|s| s.lines().next().unwrap()["[profile ".len()..].trim_end_matches(']').trim().to_string())
                .collect();
            let choices = Choices {
                hub: names[hub % names.len()].clone(),
                ..Choices::default()
            };
            if let Ok(draft) = from_aws_config(&config, &choices, FORMATS[format]) {
                check_draft(&draft.text, FORMATS[format]);
            }
        }

        #[test]
        fn a_csv_list_drafts_an_inventory_that_loads_or_is_refused(
            rows in proptest::collection::vec((word(), account(), word(), word()), 1..6),
            hub in 0usize..6,
            format in 0usize..3,
        ) {
            let mut list = "key,account_id,regions,profile\n".to_string();
            for (key, account, regions, profile) in &rows {
                let cells = [key, account, regions, profile].map(|c| format!("\"{}\"", c.replace('"', "\"\"")));
                list += &(cells.join(",") + "\n");
            }
            let choices = Choices {
                hub: rows[hub % rows.len()].0.trim().to_string(),
                regions: vec!["eu-west-1".into()],
                ..Choices::default()
            };
            if let Ok(draft) = from_csv(&list, &choices, FORMATS[format]) {
                check_draft(&draft.text, FORMATS[format]);
            }
        }
    }
}
