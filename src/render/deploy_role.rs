//! `deploy-role/README.md`: how to create the role the providers assume in every account of
//! this inventory, with the template's parameters printed from the model.

use crate::generated::{self, GeneratedFile};
use crate::model::{DeployRole, Reach, RoleDeployment};

/// Where the template is in the tree (and in the repository).
pub const TEMPLATE: &str = crate::modules::DEPLOY_ROLE_TEMPLATE.0;

/// The role name the template uses where the providers assume none.
const DEFAULT_ROLE_NAME: &str = "fanin-deploy";

pub fn readme(role: &DeployRole) -> GeneratedFile {
    let mut text = format!(
        "{marker}\n\n# The deploy role\n\n\
Before the first `tofu apply`, every account below needs the role its providers assume, with \
the permissions this tree needs. `fanin-deploy-role.yaml` is a CloudFormation template for it: \
the role, trusted by the principal you name, with permissions scoped to resources named \
`{prefix}-*` (what the modules create). From the directory of this tree, with credentials that \
may create IAM roles in the account (for example an administrator profile, `--profile NAME`), \
and `PRINCIPAL` replaced by the ARN of whoever runs `tofu` (a CI role, an SSO role):\n",
        marker = generated::MARKDOWN,
        prefix = role.name_prefix
    );
    for deployment in &role.deployments {
        text.push('\n');
        text.push_str(&accounts_line(deployment));
        let (them, their, their_capital) = if deployment.accounts.len() == 1 {
            ("it", "its", "Its")
        } else {
            ("them", "their", "Their")
        };
        match &deployment.reach {
            Reach::Role(_) => {}
            Reach::OtherRole(arn) => text.push_str(&format!(
                ". {their_capital} providers assume `{arn}`, which the template cannot create \
under that path: give that role the same permissions, or deploy this role and point `role_arn` at it"
            )),
            Reach::Credentials => text.push_str(&format!(
                ". The inventory reaches {them} with a profile or the engine's own credentials, so \
{their} providers assume no role: create `{DEFAULT_ROLE_NAME}` and have those credentials assume it \
(`role_arn` in the profile)"
            )),
        }
        text.push_str(":\n\n```sh\n");
        text.push_str(&command(role, deployment));
        text.push_str("```\n");
    }
    text.push_str(
        "\nRun the same command again when the inventory changes (generate rewrites this file); \
delete the stack once the tree is destroyed.\n",
    );
    GeneratedFile {
        path: "deploy-role/README.md".to_string(),
        contents: text.into_bytes(),
    }
}

fn accounts_line(deployment: &RoleDeployment) -> String {
    let list: Vec<String> = deployment
        .accounts
        .iter()
        .map(|(key, id)| format!("`{key}` ({id})"))
        .collect();
    if deployment.hub {
        format!("The hub account, {}", list.join(", "))
    } else if list.len() == 1 {
        format!("The member account {}", list[0])
    } else {
        format!(
            "Each of the {} member accounts {}",
            list.len(),
            list.join(", ")
        )
    }
}

fn command(role: &DeployRole, deployment: &RoleDeployment) -> String {
    let role_name = match &deployment.reach {
        Reach::Role(name) => name.as_str(),
        Reach::OtherRole(_) | Reach::Credentials => DEFAULT_ROLE_NAME,
    };
    let mut parameters = vec![
        format!(
            "AccountKind={}",
            if deployment.hub { "hub" } else { "member" }
        ),
        "TrustedPrincipalArn=PRINCIPAL".to_string(),
        format!("RoleName={role_name}"),
        format!("NamePrefix={}", role.name_prefix),
    ];
    if deployment.hub && !role.topic_name.is_empty() {
        parameters.push(format!("TopicName={}", role.topic_name));
    }
    if let Some(external_id) = &role.external_id {
        parameters.push(format!("ExternalId={external_id}"));
    }
    parameters.push(format!("ManagesKeys={}", deployment.manages_keys));
    parameters.push(format!("CreatesAnalyzer={}", deployment.creates_analyzer));
    // Printed only when needed, like ManagesArchiveRules.
    if deployment.hub && role.keeps_archives {
        parameters.push("KeepsArchives=true".to_string());
    }
    if deployment.hub && role.keeps_findings_log {
        parameters.push("KeepsFindingsLog=true".to_string());
    }
    if deployment.creates_unused_access_analyzer {
        parameters.push("CreatesUnusedAccessAnalyzer=true".to_string());
    }
    // Printed only when needed: a role deployed without it grants nothing on archive rules.
    if deployment.creates_analyzer && role.manages_archive_rules {
        parameters.push("ManagesArchiveRules=true".to_string());
    }
    let mut text = format!(
        "aws cloudformation deploy --stack-name {stack} \\\n  --template-file {TEMPLATE} --capabilities CAPABILITY_NAMED_IAM \\\n  --parameter-overrides",
        stack = shell_word(&format!("{}-deploy-role", role.name_prefix)),
    );
    for parameter in parameters {
        text.push_str(" \\\n    ");
        text.push_str(&shell_word(&parameter));
    }
    text.push('\n');
    text
}

/// A word the shell reads as written: bare when it holds only characters the shell never
/// interprets (every value the inventory allows), single-quoted otherwise.
fn shell_word(word: &str) -> String {
    let plain = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_=.,:/@+-".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn only_plain_words_stay_bare() {
        assert_eq!(
            shell_word("ExternalId=a+b=c,d.e@f:g/h_i-j"),
            "ExternalId=a+b=c,d.e@f:g/h_i-j"
        );
        assert_eq!(shell_word("X=$(rm -rf ~)"), "'X=$(rm -rf ~)'");
        assert_eq!(shell_word("X=it's"), r"'X=it'\''s'");
    }
}
