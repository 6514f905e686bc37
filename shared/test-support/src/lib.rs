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
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};

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

/// Creates the rules table (`pk`, `sk` strings, on demand), as `template.yaml` declares it.
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
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create the rules table");
}
