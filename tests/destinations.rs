//! `[notify] queue`, `format`, `archive_days` and `log_days` in the generated tree. Only the hub module gets
//! `findings_queue` and `topic_message`, and only when asked (otherwise every file is as
//! before); the root then outputs the queue; the tree's README names both; the hub's deploy
//! role manages keys when the queue is the only thing the hub key encrypts; a queue policy
//! that would pass SQS's limit is refused, and so is a format fanin does not know. The hub
//! module's own tests check the queue, its policy, its targets and the text's template;
//! tests/engine.rs validates the stacks example (the queue) and the minimal one (the text) on
//! the real provider, and the end-to-end suite applies both and checks what arrives.

mod common;

use std::fs;
use std::process::Output;

const BASE: &str = r#"version = 1

[hub]
account_id = "111111111111"
region     = "eu-west-1"

[members.prod]
account_id = "222222222222"
regions    = ["eu-west-1", "us-east-1"]
"#;

fn run_generate(inventory: &str) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fanin.toml");
    fs::write(&path, inventory).unwrap();
    let output = common::fanin()
        .arg("generate")
        .arg(&path)
        .arg("--out")
        .arg(dir.path().join("tree"))
        .output()
        .unwrap();
    (output, dir)
}

/// The generated tree's files by path.
fn generate(inventory: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    let (output, dir) = run_generate(inventory);
    assert!(output.status.success(), "{output:?}");
    common::read_tree(&dir.path().join("tree"))
}

fn text_of(tree: &std::collections::BTreeMap<String, Vec<u8>>, path: &str) -> String {
    String::from_utf8(tree[path].clone()).unwrap()
}

/// The hub module's block in a root's main.tf.
fn hub_block(main: &str) -> &str {
    let start = main.find("module \"hub\" {").expect("a hub module");
    let end = main[start..].find("\n}\n").unwrap();
    &main[start..start + end]
}

#[test]
fn only_the_hub_gets_the_queue_and_only_when_asked() {
    let plain = generate(BASE);
    let queued =
        generate(&BASE.replace("[members.prod]", "[notify]\nqueue = true\n\n[members.prod]"));
    let main = text_of(&queued, "main.tf");
    assert!(
        hub_block(&main).contains("findings_queue               = true"),
        "{main}"
    );
    assert_eq!(main.matches("findings_queue ").count(), 1, "{main}");
    // Everything else is the plain tree's: the queue's lines, its outputs, the README's words.
    let plain_main = text_of(&plain, "main.tf");
    assert_eq!(
        main.replace("  findings_queue               = true\n", ""),
        plain_main
    );
    let outputs = text_of(&queued, "outputs.tf");
    for name in ["findings_queue_url", "findings_queue_arn"] {
        assert!(outputs.contains(&format!("output \"{name}\"")), "{outputs}");
        assert!(!text_of(&plain, "outputs.tf").contains(name));
    }
    let readme = text_of(&queued, "README.md");
    assert!(
        readme.contains("and the SQS queue `fanin-findings` of the hub"),
        "{readme}"
    );
    assert!(
        readme.contains("  hub --> queue\n  bus1 --> queue\n"),
        "{readme}"
    );
    assert!(!text_of(&plain, "README.md").contains("queue["));
    for (path, bytes) in &plain {
        if !["main.tf", "outputs.tf", "README.md", "fanin-manifest.toml"].contains(&path.as_str()) {
            assert_eq!(Some(bytes), queued.get(path), "{path} differs");
        }
    }
}

/// With sse-kms, the hub's key encrypts the queue: even with the topic and the dead-letter
/// queues off, the hub's deploy role then manages a key.
#[test]
fn a_queue_with_the_hub_key_makes_the_hub_role_manage_keys() {
    let inventory = |queue: bool| {
        BASE.replace(
            "[hub]",
            "[settings]\ndead_letter_queues = false\ndead_letter_queue_encryption = \"sse-kms\"\n\n[hub]",
        )
        .replace(
            "[members.prod]",
            &format!("[notify]\nencrypt_topic = false\nqueue = {queue}\n\n[members.prod]"),
        )
    };
    let hub_line = |tree: &std::collections::BTreeMap<String, Vec<u8>>| {
        let readme = text_of(tree, "deploy-role/README.md");
        let hub = readme
            .split("The hub account")
            .nth(1)
            .and_then(|rest| rest.split("The member account").next())
            .unwrap_or_else(|| panic!("no command for the hub in\n{readme}"));
        hub.lines()
            .find(|l| l.contains("ManagesKeys="))
            .unwrap_or_else(|| panic!("no ManagesKeys in\n{hub}"))
            .trim()
            .to_string()
    };
    assert_eq!(hub_line(&generate(&inventory(true))), "ManagesKeys=true \\");
    assert_eq!(
        hub_line(&generate(&inventory(false))),
        "ManagesKeys=false \\"
    );
}

/// Every finding rule is named in the queue's policy: with enough intake buses it would pass
/// SQS's 8,192 bytes, which generate refuses (with the dead-letter queues off, so that the
/// findings queue is the one that overflows).
#[test]
fn a_queue_policy_past_the_sqs_limit_is_refused() {
    let members: String = (0..120)
        .map(|i| {
            format!(
                "\n[members.m{i}]\naccount_id = \"{:012}\"\n",
                300_000_000_000u64 + i
            )
        })
        .collect();
    let inventory = |quota: usize| {
        format!(
            "version = 1\n\n[settings]\ndead_letter_queues = false\nbus_policy_quota = {quota}\n\n[hub]\naccount_id = \"111111111111\"\nregion = \"eu-west-1\"\n\n[notify]\nqueue = true\n{members}"
        )
    };
    // The smallest quota that admits a member per bus: generate says what one needs.
    let (output, _dir) = run_generate(&inventory(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let needed: usize = stderr
        .split("an intake bus policy naming one member takes ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stderr}"));
    // Bus names grow with their number (fanin-intake-120): a few characters more for those.
    let needed = needed + 4;
    let (output, dir) = run_generate(&inventory(needed));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("120 members need 120 intake buses")
            && stderr.contains(
                "the hub's findings queue policy, which names every finding rule of every bus, would be "
            )
            && stderr.contains("over SQS's limit of 8192"),
        "{stderr}"
    );
    assert!(!stderr.contains("dead-letter queue policy"), "{stderr}");
    assert!(!dir.path().join("tree").exists());
    // Without the queue (and without dead-letter queues) nothing lists every rule.
    let (output, _dir) = run_generate(&inventory(needed).replace("queue = true\n", ""));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `[notify] format = "text"`: only the hub module's topic gets the line of text, and only
/// when asked; a format fanin does not know is refused, naming the field and the choices.
#[test]
fn text_messages_only_when_asked() {
    let text = generate(&BASE.replace(
        "[members.prod]",
        "[notify]\nformat = \"text\"\n\n[members.prod]",
    ));
    let main = text_of(&text, "main.tf");
    assert!(
        hub_block(&main).contains("topic_message                = \"text\""),
        "{main}"
    );
    assert_eq!(main.matches("topic_message").count(), 1, "{main}");
    let event = generate(&BASE.replace(
        "[members.prod]",
        "[notify]\nformat = \"event\"\n\n[members.prod]",
    ));
    assert_eq!(
        text_of(&event, "main.tf"),
        text_of(&generate(BASE), "main.tf")
    );
    assert!(text_of(&text, "README.md").contains("a line of text per finding"));

    let (output, dir) = run_generate(&BASE.replace(
        "[members.prod]",
        "[notify]\nformat = \"html\"\n\n[members.prod]",
    ));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("notify.format: \"html\" is not a message format; allowed: \"event\""),
        "{stderr}"
    );
    assert!(!dir.path().join("tree").exists());
}

#[test]
fn archives_only_when_asked_with_their_days_outputs_and_the_hubs_grant() {
    let plain = generate(BASE);
    let archived = generate(&BASE.replace(
        "[members.prod]",
        "[notify]\narchive_days = 400\n\n[members.prod]",
    ));
    let main = text_of(&archived, "main.tf");
    let hub = hub_block(&main);
    let spaced = common::spaced(hub);
    assert!(spaced.contains("archive_retention_days = 400"), "{hub}");
    assert_eq!(main.matches("archive_retention_days").count(), 1, "{main}");
    assert!(!text_of(&plain, "main.tf").contains("archive"));
    let outputs = text_of(&archived, "outputs.tf");
    assert!(outputs.contains("output \"archive_arns\""), "{outputs}");
    assert!(!text_of(&plain, "outputs.tf").contains("archive_arns"));
    assert!(
        text_of(&archived, "README.md")
            .contains("Archived for replay: the events of every bus with finding rules, 400 days")
    );
    // The hub's role may manage archives; the members' need not.
    let role = text_of(&archived, "deploy-role/README.md");
    let commands: Vec<&str> = role
        .split("```sh\n")
        .skip(1)
        .map(|c| c.split("```").next().unwrap())
        .collect();
    assert!(commands[0].contains("AccountKind=hub") && commands[0].contains("KeepsArchives=true"));
    for member in &commands[1..] {
        assert!(!member.contains("KeepsArchives"), "{member}");
    }
    assert!(!text_of(&plain, "deploy-role/README.md").contains("KeepsArchives"));
}

#[test]
fn a_findings_log_group_only_when_asked_with_the_hub_key_and_the_hubs_grant() {
    let plain = generate(&BASE.replace(
        "[members.prod]",
        "[notify]\nencrypt_topic = false\n\n[members.prod]",
    ));
    let logged = generate(&BASE.replace(
        "[members.prod]",
        "[notify]\nencrypt_topic = false\nlog_days = 731\n\n[members.prod]",
    ));
    let main = text_of(&logged, "main.tf");
    let spaced = common::spaced(hub_block(&main));
    assert!(
        spaced.contains("findings_log_retention_days = 731"),
        "{main}"
    );
    assert_eq!(
        main.matches("findings_log_retention_days").count(),
        1,
        "{main}"
    );
    assert!(!text_of(&plain, "main.tf").contains("findings_log"));
    assert!(text_of(&logged, "outputs.tf").contains("output \"findings_log_group_name\""));
    assert!(text_of(&logged, "README.md").contains(
        "Logged: every finding's event in the CloudWatch Logs group `/aws/events/fanin-findings`, 731 days"
    ));
    // The log group alone needs the hub key: the hub's role manages keys, and keeps the log.
    let role = text_of(&logged, "deploy-role/README.md");
    let hub = role
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    assert!(
        hub.contains("AccountKind=hub")
            && hub.contains("ManagesKeys=true")
            && hub.contains("KeepsFindingsLog=true"),
        "{hub}"
    );
    let plain_role = text_of(&plain, "deploy-role/README.md");
    let plain_hub = plain_role.split("```sh\n").nth(1).unwrap();
    assert!(
        plain_hub.contains("ManagesKeys=false") && !plain_role.contains("KeepsFindingsLog"),
        "{plain_role}"
    );
}
