//! The accepted forms of `topic_id` and the notification type each implies.

use serde::{Serialize, Serializer};

/// Where a rule's messages go: an SNS/SMN topic or a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationType {
    Smn,
    Fun,
}

impl NotificationType {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "smn" => Some(NotificationType::Smn),
            "fun" => Some(NotificationType::Fun),
            _ => None,
        }
    }
}

/// A validated `topic_id`: an SNS topic ARN or SMN URN (`smn`), or a Lambda function ARN or
/// FunctionGraph URN (`fun`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicId {
    raw: String,
    kind: NotificationType,
}

impl TopicId {
    /// Parses a topic id; `None` when it has none of the accepted forms.
    pub fn parse(raw: &str) -> Option<TopicId> {
        let kind = kind_of(raw)?;
        Some(TopicId {
            raw: raw.to_owned(),
            kind,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn kind(&self) -> NotificationType {
        self.kind
    }

    /// The SMN URN's project and topic name (`urn:smn:<region>:<project>:<name>`), if this is
    /// one.
    pub fn smn_project_and_name(&self) -> Option<(&str, &str)> {
        let mut parts = self.raw.strip_prefix("urn:smn:")?.split(':').skip(1);
        Some((parts.next()?, parts.next()?))
    }

    /// The project a URN (SMN or FunctionGraph) names; `None` for ARNs, which name accounts.
    pub fn urn_project(&self) -> Option<&str> {
        let rest = self
            .raw
            .strip_prefix("urn:smn:")
            .or_else(|| self.raw.strip_prefix("urn:fss:"))?;
        rest.split(':').nth(1)
    }

    /// The Lambda function a FunctionGraph URN
    /// `urn:fss:<region>:<project>:function:<package>:<name>[:<version>]` invokes:
    /// `<project>_<name>` of the deployment (as SMN URNs name `<project>_<name>` topics), and
    /// the version as qualifier unless it is `latest`.
    pub fn fss_function(&self) -> Option<(String, Option<&str>)> {
        let parts: Vec<&str> = self.raw.strip_prefix("urn:fss:")?.split(':').collect();
        let (project, name) = (parts.get(1)?, parts.get(4)?);
        let version = parts.get(5).copied().filter(|v| *v != "latest");
        Some((format!("{project}_{name}"), version))
    }

    /// A Lambda function ARN's parts: partition, region, account, name and qualifier.
    pub fn lambda_arn_parts(&self) -> Option<LambdaArn<'_>> {
        let parts: Vec<&str> = self.raw.strip_prefix("arn:")?.split(':').collect();
        match parts.as_slice() {
            [partition, "lambda", region, account, "function", name, qualifier @ ..] => {
                Some(LambdaArn {
                    partition,
                    region,
                    account,
                    name,
                    qualifier: qualifier.first().copied(),
                })
            }
            _ => None,
        }
    }

    /// The name of the SNS topic an SMN URN publishes to: `<project>_<name>`, so that two
    /// projects' topics of one name are two SNS topics. Project ids in URNs hold no `_`, so the
    /// first `_` tells where the project ends.
    pub fn sns_topic_name(&self) -> Option<String> {
        let (project, name) = self.smn_project_and_name()?;
        Some(format!("{project}_{name}"))
    }
}

/// The parts of `arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LambdaArn<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub name: &'a str,
    pub qualifier: Option<&'a str>,
}

impl std::fmt::Display for TopicId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.raw)
    }
}

impl Serialize for TopicId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

/// SNS topic names, `.fifo` included, hold at most this many characters.
const MAX_SNS_TOPIC_NAME: usize = 256;
/// Lambda function names hold at most this many characters.
const MAX_LAMBDA_NAME: usize = 64;

fn kind_of(raw: &str) -> Option<NotificationType> {
    let parts: Vec<&str> = raw.split(':').collect();
    match parts.as_slice() {
        ["arn", partition, "sns", region, account, name] => (is_label(partition)
            && is_label(region)
            && is_account(account)
            && is_topic_name(name, 256))
        .then_some(NotificationType::Smn),
        ["urn", "smn", region, project, name] => (is_label(region)
            && is_label(project)
            && is_topic_name(name, 255)
            && project.len() + 1 + name.len() <= MAX_SNS_TOPIC_NAME)
            .then_some(NotificationType::Smn),
        ["arn", partition, "lambda", region, account, "function", name, qualifier @ ..] => {
            let qualifier_ok = match qualifier {
                [] => true,
                [q] => is_topic_name(q, 128),
                _ => false,
            };
            (is_label(partition)
                && is_label(region)
                && is_account(account)
                && is_topic_name(name, 140)
                && qualifier_ok)
                .then_some(NotificationType::Fun)
        }
        ["urn", "fss", region, project, "function", package, name, version @ ..] => {
            let version_ok = match version {
                [] => true,
                [v] => is_topic_name(v, 128),
                _ => false,
            };
            (is_label(region)
                && is_label(project)
                && is_topic_name(package, 64)
                && is_lambda_name(name)
                && project.len() + 1 + name.len() <= MAX_LAMBDA_NAME
                && version_ok)
                .then_some(NotificationType::Fun)
        }
        _ => None,
    }
}

fn is_label(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_lambda_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_LAMBDA_NAME
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_topic_name(s: &str, max: usize) -> bool {
    let s = s.strip_suffix(".fifo").unwrap_or(s);
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms_give_their_types() {
        let smn = [
            "arn:aws:sns:eu-west-1:123456789012:key_events",
            "arn:aws-cn:sns:cn-north-1:123456789012:alerts.fifo",
            "urn:smn:eu-west-1:24edf66e79d04187acb99a463e610764:key_events",
        ];
        for t in smn {
            assert_eq!(
                TopicId::parse(t).map(|t| t.kind()),
                Some(NotificationType::Smn),
                "{t}"
            );
        }
        let fun = [
            "arn:aws:lambda:eu-west-1:123456789012:function:audit-sink",
            "arn:aws:lambda:eu-west-1:123456789012:function:audit-sink:live",
            "urn:fss:cn-north-4:24edf66e79d04187acb99a463e610764:function:default:audit:latest",
        ];
        for t in fun {
            assert_eq!(
                TopicId::parse(t).map(|t| t.kind()),
                Some(NotificationType::Fun),
                "{t}"
            );
        }
    }

    #[test]
    fn malformed_topics_are_rejected() {
        for t in [
            "",
            "key_events",
            "arn:aws:sns:eu-west-1:12345678901:short_account",
            "arn:aws:sns:eu-west-1:123456789012:",
            "arn:aws:sns:eu-west-1:123456789012:bad name",
            "urn:smn:eu-west-1:project",
            "arn:aws:lambda:eu-west-1:123456789012:audit-sink",
            "urn:fss:x",
            "urn:fss:r:p:function:default",
            "urn:fss:r:p:trigger:default:audit",
            "urn:fss:r:p:function:default:a.b",
            "urn:fss:r:p:function:default:audit:latest:extra",
        ] {
            assert!(TopicId::parse(t).is_none(), "{t:?} was accepted");
        }
    }

    #[test]
    fn smn_urn_names_its_project_and_topic() {
        let t = TopicId::parse("urn:smn:eu-west-1:24edf66e:key_events").unwrap();
        assert_eq!(t.smn_project_and_name(), Some(("24edf66e", "key_events")));
        assert_eq!(t.sns_topic_name().as_deref(), Some("24edf66e_key_events"));
        let arn = TopicId::parse("arn:aws:sns:eu-west-1:123456789012:key_events").unwrap();
        assert_eq!(arn.sns_topic_name(), None);
    }

    #[test]
    fn two_projects_never_share_an_sns_topic() {
        let names: std::collections::HashSet<String> = [
            "urn:smn:r:a-b:c",
            "urn:smn:r:a:b-c",
            "urn:smn:r:a:b_c",
            "urn:smn:r:ab:c",
            "urn:smn:r:a:bc",
        ]
        .iter()
        .map(|t| TopicId::parse(t).unwrap().sns_topic_name().unwrap())
        .collect();
        assert_eq!(names.len(), 5, "{names:?}");
    }

    #[test]
    fn a_functiongraph_urn_invokes_its_projects_function() {
        let t =
            TopicId::parse("urn:fss:cn-north-4:24edf66e:function:default:audit:latest").unwrap();
        assert_eq!(t.fss_function(), Some(("24edf66e_audit".to_owned(), None)));
        assert_eq!(t.urn_project(), Some("24edf66e"));
        let v = TopicId::parse("urn:fss:r:p:function:default:audit:live").unwrap();
        assert_eq!(v.fss_function(), Some(("p_audit".to_owned(), Some("live"))));
        let fits = format!(
            "urn:fss:r:{}:function:default:{}",
            "p".repeat(32),
            "f".repeat(31)
        );
        assert!(TopicId::parse(&fits).is_some());
        let over = format!(
            "urn:fss:r:{}:function:default:{}",
            "p".repeat(32),
            "f".repeat(32)
        );
        assert!(
            TopicId::parse(&over).is_none(),
            "no Lambda name is that long"
        );
        let arn = TopicId::parse("arn:aws:lambda:eu-west-1:123456789012:function:f:live").unwrap();
        assert_eq!(arn.fss_function(), None);
        assert_eq!(arn.urn_project(), None);
        let parts = arn.lambda_arn_parts().unwrap();
        assert_eq!(
            (parts.region, parts.account, parts.name, parts.qualifier),
            ("eu-west-1", "123456789012", "f", Some("live"))
        );
    }

    #[test]
    fn an_smn_urn_fits_an_sns_topic_name() {
        let project = "p".repeat(32);
        let fits = format!("urn:smn:r:{project}:{}", "t".repeat(256 - 33));
        assert!(TopicId::parse(&fits).is_some());
        let over = format!("urn:smn:r:{project}:{}", "t".repeat(256 - 32));
        assert!(TopicId::parse(&over).is_none());
    }
}
