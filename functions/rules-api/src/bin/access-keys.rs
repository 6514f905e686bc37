//! Creates, lists and revokes the access keys of the deployed API (AK/SK mode), in the rules
//! table named by `TABLE_NAME`, with the AWS credentials of the environment.
//!
//! ```text
//! access-keys create <project_id>    prints the new key and its secret, once
//! access-keys list <project_id>      prints the project's active access keys (no secrets)
//! access-keys revoke <access_key>    refused within the API's key cache time (60 s)
//! ```

use aws_adapters::access_keys::generate_key;
use aws_adapters::DynamoDbStore;

const USAGE: &str =
    "usage: access-keys create <project_id> | list <project_id> | revoke <access_key>";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [command, subject] = args.as_slice() else {
        return Err(USAGE.into());
    };
    let table = ports::env_required("TABLE_NAME", "the stack's RulesTableName output")?;
    let aws = aws_adapters::config::loader().load().await;
    let store = DynamoDbStore::new(aws_adapters::dynamodb::Client::new(&aws), table);
    match command.as_str() {
        "create" => {
            let key = generate_key(subject)?;
            store.add_access_key(&key).await?;
            let shown = serde_json::json!({
                "access_key": key.access_key, "secret_key": key.secret_key, "project_id": key.project_id,
            });
            println!("{shown}");
            eprintln!("The secret key is shown this once; keep it where your clients read it.");
        }
        "list" => {
            for (access_key, created_ms) in store.list_access_keys(subject).await? {
                println!("{access_key}\tcreated_at_ms={created_ms}");
            }
        }
        "revoke" => {
            store.revoke_access_key(subject).await?;
            eprintln!("revoked {subject}");
        }
        _ => return Err(USAGE.into()),
    }
    Ok(())
}
