//! A moto server for integration tests: started on a free loopback port from the project's
//! virtualenv (`scripts/venv.sh` installs it), serving one request at a time as DynamoDB
//! isolates transactions (`scripts/moto_serial.py`), killed when dropped. A test that needs it and
//! cannot start it fails: a test that did not run is a test that failed.

pub mod faults;
pub mod runtime_api;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{Region, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};

#[derive(Debug)]
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

impl Moto {
    /// Starts moto and waits until it answers.
    pub async fn start() -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let bin = project_root().join(".venv/bin/python");
        let child = Command::new(&bin)
            .arg(project_root().join("scripts/moto_serial.py"))
            .args(["127.0.0.1", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} ({e}); run scripts/venv.sh first",
                    bin.display()
                )
            });
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "moto did not start within 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        moto
    }

    /// SDK configuration for this server: dummy credentials, one region.
    pub async fn sdk_config(&self) -> SdkConfig {
        self.sdk_config_via(&self.endpoint).await
    }

    /// SDK configuration for `endpoint` (this server, or a proxy in front of it), with the
    /// functions' retry and timeout policy.
    pub async fn sdk_config_via(&self, endpoint: &str) -> SdkConfig {
        aws_adapters::config::loader()
            .endpoint_url(endpoint)
            .region(Region::new("eu-west-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "test", "test", None, None, "moto",
            ))
            .load()
            .await
    }
}

/// Creates the rules table (`pk`, `sk` strings, on demand, the `digest-members` index), as
/// `template.yaml` declares it.
pub async fn create_rules_table(client: &aws_sdk_dynamodb::Client, name: &str) {
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .unwrap()
    };
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(name)
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .attribute_definitions(attr("dw"))
        .attribute_definitions(attr("dat"))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(aws_adapters::DIGEST_MEMBERS_INDEX)
                .key_schema(key("dw", KeyType::Hash))
                .key_schema(key("dat", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::Include)
                        .set_non_key_attributes(Some(
                            ["tn", "u", "rt", "r"].map(String::from).to_vec(),
                        ))
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create the rules table");
}

/// Creates topic `topic` with queue `queue` subscribed (SNS envelope delivery, the default):
/// what a subscriber of the product's messages sees. Returns the topic ARN and the queue URL.
/// Creates the bucket `name` in the tests' region.
pub async fn create_bucket(aws: &SdkConfig, name: &str) {
    use aws_adapters::s3::types::CreateBucketConfiguration;
    aws_adapters::s3_client(aws)
        .create_bucket()
        .bucket(name)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint("eu-west-1".into())
                .build(),
        )
        .send()
        .await
        .expect("create the bucket");
}

pub async fn subscribed_queue(aws: &SdkConfig, topic: &str, queue: &str) -> (String, String) {
    let sns = aws_adapters::sns::Client::new(aws);
    let sqs = aws_sdk_sqs::Client::new(aws);
    let topic_arn = sns
        .create_topic()
        .name(topic)
        .send()
        .await
        .expect("create topic");
    let topic_arn = topic_arn.topic_arn().expect("topic ARN").to_owned();
    let queue_url = sqs
        .create_queue()
        .queue_name(queue)
        .send()
        .await
        .expect("create queue");
    let queue_url = queue_url.queue_url().expect("queue URL").to_owned();
    let queue_arn = format!("arn:aws:sqs:eu-west-1:123456789012:{queue}");
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .expect("subscribe");
    (topic_arn, queue_url)
}

/// Receives and deletes every message waiting in the queue; returns their bodies as JSON.
pub async fn drain(aws: &SdkConfig, queue_url: &str) -> Vec<serde_json::Value> {
    let sqs = aws_sdk_sqs::Client::new(aws);
    let mut out = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        if got.messages().is_empty() {
            return out;
        }
        for m in got.messages() {
            out.push(serde_json::from_str(m.body().unwrap_or_default()).expect("a JSON body"));
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete");
        }
    }
}
