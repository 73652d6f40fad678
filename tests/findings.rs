//! `[findings]` and `[[archive]]` in the generated tree: which modules get the statuses and
//! the archive rules, the one `locals` block that holds the rules, the default statuses with
//! and without rules, the deploy role's parameter, and generate's note about analyzers fanin
//! does not create. The modules' own tests (modules/*/tests) check what the variables do to
//! the event pattern and to `aws_accessanalyzer_archive_rule`; tests/engine.rs validates the
//! stacks example, which has an archive rule, on the real provider.

mod common;

use std::fs;
use std::path::Path;

const BASE: &str = r#"version = 1

[hub]
account_id = "111111111111"
region     = "eu-west-1"

[members.prod]
account_id = "222222222222"
regions    = ["eu-west-1", "us-east-1"]

[members.legacy]
account_id      = "333333333333"
create_analyzer = false
"#;

const RULES: &str = r#"
[[archive]]
name = "known-partner"
filter."principal.AWS" = { eq = ["444444444444"] }

[[archive]]
name = "public.website"
filter.resource = { contains = ["arn:aws:s3:::www.${path.cwd}"] }
filter.isPublic = { eq = ["true"], exists = true }
"#;

struct Generated {
    main: String,
    readme: String,
    /// The tree's own README.md.
    tree_readme: String,
    stderr: String,
}

fn generate(inventory: &str) -> Generated {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanin.toml");
    fs::write(&path, inventory).unwrap();
    let out = dir.path().join("tree");
    let output = common::fanin()
        .arg("generate")
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let read = |p: &str| fs::read_to_string(out.join(p)).unwrap();
    Generated {
        main: read("main.tf"),
        readme: read("deploy-role/README.md"),
        tree_readme: read("README.md"),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// The module blocks of a root's main.tf by name, each as its text.
fn modules(main: &str) -> Vec<(String, String)> {
    main.split("\nmodule \"")
        .skip(1)
        .map(|block| {
            let (name, body) = block.split_once('"').unwrap();
            (
                name.to_string(),
                body.split("\n}\n").next().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn without_either_choice_the_modules_get_neither() {
    let tree = generate(BASE);
    assert!(!tree.main.contains("locals"), "{}", tree.main);
    assert!(!tree.main.contains("finding_statuses"), "{}", tree.main);
    assert!(!tree.main.contains("archive_rules"), "{}", tree.main);
    for absent in [
        "finding_sources",
        "finding_resource_types",
        "finding_min_severity",
        "create_unused_access_analyzer",
    ] {
        assert!(!tree.main.contains(absent), "{absent}: {}", tree.main);
    }
    assert!(
        tree.tree_readme
            .contains("Forwarded: Access Analyzer findings (external access), not deleted, in"),
        "{}",
        tree.tree_readme
    );
    assert!(
        !tree.readme.contains("CreatesUnusedAccessAnalyzer"),
        "{}",
        tree.readme
    );
    assert!(
        !tree.readme.contains("ManagesArchiveRules"),
        "{}",
        tree.readme
    );
    assert!(!tree.stderr.contains("archive"), "{}", tree.stderr);
}

#[test]
fn archive_rules_go_to_every_module_that_creates_an_analyzer_and_archived_findings_stay_home() {
    let tree = generate(&format!("{BASE}{RULES}"));
    let modules = modules(&tree.main);
    let names: Vec<&str> = modules.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "hub",
            "spoke_legacy_eu_west_1",
            "spoke_prod_eu_west_1",
            "spoke_prod_us_east_1"
        ]
    );
    for (name, body) in &modules {
        let creates_analyzer = body.contains("create_analyzer              = true");
        assert_eq!(creates_analyzer, name != "spoke_legacy_eu_west_1", "{name}");
        assert_eq!(
            body.contains("archive_rules                = local.archive_rules"),
            creates_analyzer,
            "{name}:{body}"
        );
        // Archived findings are the ones the rules are for: by default they reach nobody.
        assert!(
            body.contains(r#"finding_statuses             = ["ACTIVE", "RESOLVED"]"#),
            "{name}:{body}"
        );
    }
    // One locals block, first, with the rules as written; an inventory string stays a string.
    assert!(tree.main.contains(
        r#"locals {
  archive_rules = {
    known-partner = {
      "principal.AWS" = {
        eq = ["444444444444"]
      }
    }
    "public.website" = {
      resource = {
        contains = ["arn:aws:s3:::www.$${path.cwd}"]
      }
      isPublic = {
        eq     = ["true"]
        exists = true
      }
    }
  }
}
"#
    ));
    assert_eq!(tree.main.matches("locals {").count(), 1);
    // The role may manage rules where the analyzer is fanin's, and nowhere else.
    for command in tree.readme.split("```sh\n").skip(1) {
        let command = command.split("```").next().unwrap();
        assert_eq!(
            command.contains("ManagesArchiveRules=true"),
            command.contains("CreatesAnalyzer=true"),
            "{command}"
        );
    }
    assert!(
        tree.stderr.contains(
            "note: the archive rules go only on the analyzers fanin creates; legacy has create_analyzer = false"
        ),
        "{}",
        tree.stderr
    );
}

#[test]
fn statuses_as_listed_in_one_order_whatever_the_inventory_order() {
    for (listed, pattern) in [
        (r#"["RESOLVED", "ACTIVE"]"#, r#"["ACTIVE", "RESOLVED"]"#),
        (r#"["ARCHIVED"]"#, r#"["ARCHIVED"]"#),
    ] {
        let tree = generate(&format!("{BASE}\n[findings]\nstatuses = {listed}\n"));
        for (name, body) in modules(&tree.main) {
            assert!(
                body.contains(&format!("finding_statuses             = {pattern}")),
                "{name}:{body}"
            );
        }
        assert!(!tree.main.contains("archive_rules"), "{}", tree.main);
    }
    // Every status listed is the pattern without a status: the tree as it was before.
    let all = generate(&format!(
        "{BASE}{RULES}\n[findings]\nstatuses = [\"ACTIVE\", \"ARCHIVED\", \"RESOLVED\"]\n"
    ));
    assert!(!all.main.contains("finding_statuses"), "{}", all.main);
}

#[test]
fn in_the_stacks_layout_each_root_with_an_analyzer_has_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanin.toml");
    fs::write(
        &path,
        format!(
            "{}{RULES}",
            BASE.replace(
                "version = 1\n",
                "version = 1\n[settings]\nlayout = \"stacks\"\n"
            )
        ),
    )
    .unwrap();
    let out = dir.path().join("tree");
    common::generate(&path, &out);
    let main = |stack: &str| fs::read_to_string(out.join("stacks").join(stack).join("main.tf"));
    for (stack, has_rules) in [
        ("hub", true),
        ("member-222222222222", true),
        ("member-333333333333", false),
    ] {
        let text = main(stack).unwrap();
        assert_eq!(text.contains("locals {"), has_rules, "{stack}:\n{text}");
        assert_eq!(
            text.contains("local.archive_rules"),
            has_rules,
            "{stack}:\n{text}"
        );
    }
    assert!(!Path::new(&out.join("main.tf")).exists());
}

#[test]
fn sources_and_their_filters_go_to_every_module_in_one_order() {
    let tree = generate(&format!(
        "{BASE}\n[findings]\nsources = [\"security-hub\", \"guardduty\", \"external-access\"]\nmin_severity = \"HIGH\"\nresource_types = [\"AWS::S3::Bucket\", \"AWS::KMS::Key\"]\n"
    ));
    for (name, body) in modules(&tree.main) {
        let body = common::spaced(&body);
        for wanted in [
            r#"finding_sources = ["external-access", "guardduty", "security-hub"]"#,
            r#"finding_resource_types = ["AWS::S3::Bucket", "AWS::KMS::Key"]"#,
            r#"finding_min_severity = "HIGH""#,
        ] {
            assert!(body.contains(wanted), "{name}: {wanted} not in {body}");
        }
        // No unused access analyzer without its source.
        assert!(
            !body.contains("create_unused_access_analyzer"),
            "{name}: {body}"
        );
    }
    for line in [
        "- Access Analyzer findings (external access), not deleted, in every status (ACTIVE, ARCHIVED, RESOLVED), of type `AWS::S3::Bucket`, `AWS::KMS::Key`.",
        "- GuardDuty findings, severity HIGH and up.",
        "- Security Hub CSPM findings (\"Security Hub Findings - Imported\"), severity HIGH and up.",
    ] {
        assert!(
            tree.tree_readme.contains(line),
            "{line}\n{}",
            tree.tree_readme
        );
    }
}

#[test]
fn the_unused_access_analyzer_is_made_once_per_account_where_fanin_makes_analyzers() {
    let tree = generate(&format!(
        "{BASE}\n[findings]\nsources = [\"unused-access\"]\n"
    ));
    let modules = modules(&tree.main);
    let creating: Vec<&str> = modules
        .iter()
        .filter(|(_, body)| common::spaced(body).contains("create_unused_access_analyzer = true"))
        .map(|(name, _)| name.as_str())
        .collect();
    // The hub in its home region; prod in its first region (sorted); legacy keeps its own
    // analyzers (create_analyzer = false).
    assert_eq!(creating, ["hub", "spoke_prod_eu_west_1"]);
    for (name, body) in &modules {
        assert!(
            common::spaced(body).contains(r#"finding_sources = ["unused-access"]"#),
            "{name}: {body}"
        );
    }
    for command in tree.readme.split("```sh\n").skip(1) {
        let command = command.split("```").next().unwrap();
        assert_eq!(
            command.contains("CreatesUnusedAccessAnalyzer=true"),
            command.contains("CreatesAnalyzer=true"),
            "{command}"
        );
    }
    assert!(
        tree.tree_readme
            .contains("- Access Analyzer unused access findings, not deleted, in every status"),
        "{}",
        tree.tree_readme
    );
}

#[test]
fn custom_patterns_go_to_every_module_as_written_and_stay_strings() {
    // JSON as written (EventBridge compares numbers by their text), `${` included: the
    // pattern is a string in HCL, never code.
    let pattern = r#"{"source": ["acme.app"], "detail": {"note": ["${path.cwd}"], "level": [{"numeric": [">=", 3.0e0]}]}}"#;
    let tree = generate(&format!(
        "{BASE}\n[findings.custom_patterns]\nacme = '{pattern}'\nmacie = '{{\"source\": [\"aws.macie\"]}}'\n"
    ));
    let written = r#"acme  = "{\"source\": [\"acme.app\"], \"detail\": {\"note\": [\"$${path.cwd}\"], \"level\": [{\"numeric\": [\">=\", 3.0e0]}]}}""#;
    for (name, body) in modules(&tree.main) {
        assert!(body.contains("custom_event_patterns = {"), "{name}: {body}");
        assert!(body.contains(written), "{name}: {body}");
        assert!(
            body.contains(r#"macie = "{\"source\": [\"aws.macie\"]}""#),
            "{name}: {body}"
        );
    }
    assert!(
        tree.tree_readme.contains(
            "- Access Analyzer findings (external access), not deleted, in every status (ACTIVE, ARCHIVED, RESOLVED).\n- Events matching the custom pattern `acme` (`[findings.custom_patterns]`).\n- Events matching the custom pattern `macie`"
        ),
        "{}",
        tree.tree_readme
    );
}
