//! Requests signed by the Huawei Cloud Python SDK's own signer (`sdk_signed.json`, written by
//! `make_sdk_vectors.py`) verify; any change to what was signed does not.

use aksk::{parse_sdk_date, sign, Authorization, SignatureError};
use serde_json::Value;

struct Vectors {
    doc: Value,
}

impl Vectors {
    fn load() -> Vectors {
        let text = include_str!("sdk_signed.json");
        Vectors {
            doc: serde_json::from_str(text).unwrap(),
        }
    }

    fn secret(&self) -> &str {
        self.doc["secret_key"].as_str().unwrap()
    }

    fn now(&self) -> i64 {
        parse_sdk_date(self.doc["date"].as_str().unwrap()).unwrap()
    }

    fn all(&self) -> impl Iterator<Item = (String, http::request::Parts, Vec<u8>)> + '_ {
        self.doc["vectors"].as_array().unwrap().iter().map(|v| {
            let query = v["query"].as_str().unwrap();
            let uri = if query.is_empty() {
                v["path"].as_str().unwrap().to_owned()
            } else {
                format!("{}?{query}", v["path"].as_str().unwrap())
            };
            let mut builder = http::Request::builder()
                .method(v["method"].as_str().unwrap())
                .uri(uri);
            for (k, val) in v["headers"].as_object().unwrap() {
                builder = builder.header(k, val.as_str().unwrap());
            }
            let (parts, ()) = builder.body(()).unwrap().into_parts();
            let body = v["body"].as_str().unwrap().as_bytes().to_vec();
            (v["name"].as_str().unwrap().to_owned(), parts, body)
        })
    }
}

fn verify(
    parts: &http::request::Parts,
    body: &[u8],
    secret: &str,
    now: i64,
) -> Result<(), SignatureError> {
    Authorization::from_headers(&parts.headers)?.verify(parts, body, secret, now)
}

#[test]
fn every_request_the_sdk_signed_verifies() {
    let v = Vectors::load();
    for (name, parts, body) in v.all() {
        assert_eq!(verify(&parts, &body, v.secret(), v.now()), Ok(()), "{name}");
        let auth = Authorization::from_headers(&parts.headers).unwrap();
        assert_eq!(auth.access_key, v.doc["access_key"].as_str().unwrap());
    }
}

#[test]
fn our_signer_writes_what_the_sdk_writes() {
    let v = Vectors::load();
    for (name, mut parts, body) in v.all() {
        let theirs = parts.headers.remove("authorization").unwrap();
        let ours = sign(
            &parts,
            &body,
            v.doc["access_key"].as_str().unwrap(),
            v.secret(),
        );
        assert_eq!(ours, theirs.to_str().unwrap(), "{name}");
    }
}

#[test]
fn a_wrong_secret_does_not_verify() {
    let v = Vectors::load();
    for (name, parts, body) in v.all() {
        let wrong = format!("{}x", v.secret());
        assert_eq!(
            verify(&parts, &body, &wrong, v.now()),
            Err(SignatureError::Mismatch),
            "{name}"
        );
    }
}

#[test]
fn a_body_changed_after_signing_does_not_verify() {
    let v = Vectors::load();
    for (name, parts, mut body) in v.all() {
        body.push(b' ');
        assert_eq!(
            verify(&parts, &body, v.secret(), v.now()),
            Err(SignatureError::Mismatch),
            "{name}"
        );
    }
}

#[test]
fn a_changed_method_path_query_or_signed_header_does_not_verify() {
    let v = Vectors::load();
    let (_, parts, body) = v.all().nth(1).unwrap();
    let tamper: [&dyn Fn(&mut http::request::Parts); 4] = [
        &|p| p.method = http::Method::DELETE,
        &|p| {
            p.uri = "/v3/otherproject/notifications/smn?notification_name=key_ops"
                .parse()
                .unwrap()
        },
        &|p| {
            p.uri = format!("{}?notification_name=other", p.uri.path())
                .parse()
                .unwrap()
        },
        &|p| {
            p.headers
                .insert("x-project-id", "otherproject".parse().unwrap());
        },
    ];
    for (i, change) in tamper.iter().enumerate() {
        let mut changed = parts.clone();
        change(&mut changed);
        assert_eq!(
            verify(&changed, &body, v.secret(), v.now()),
            Err(SignatureError::Mismatch),
            "change {i}"
        );
    }
    let mut unsigned_header_added = parts.clone();
    unsigned_header_added
        .headers
        .insert("x-extra", "1".parse().unwrap());
    assert_eq!(
        verify(&unsigned_header_added, &body, v.secret(), v.now()),
        Ok(()),
        "headers not signed do not count"
    );
    let mut signed_header_removed = parts;
    signed_header_removed.headers.remove("user-agent");
    assert_eq!(
        verify(&signed_header_removed, &body, v.secret(), v.now()),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn a_date_more_than_15_minutes_away_is_stale() {
    let v = Vectors::load();
    let (_, parts, body) = v.all().next().unwrap();
    for skew in [-15 * 60, 0, 15 * 60] {
        assert_eq!(
            verify(&parts, &body, v.secret(), v.now() + skew),
            Ok(()),
            "{skew}"
        );
    }
    for skew in [-15 * 60 - 1, 15 * 60 + 1, 86_400] {
        assert_eq!(
            verify(&parts, &body, v.secret(), v.now() + skew),
            Err(SignatureError::Stale),
            "{skew}"
        );
    }
}

#[test]
fn missing_or_malformed_authorization_is_refused() {
    let v = Vectors::load();
    let (_, parts, body) = v.all().next().unwrap();
    let mut missing = parts.clone();
    missing.headers.remove("authorization");
    assert_eq!(
        verify(&missing, &body, v.secret(), v.now()),
        Err(SignatureError::Missing)
    );
    let good = parts.headers["authorization"].to_str().unwrap().to_owned();
    for bad in [
        "Bearer abc".to_owned(),
        good.replace("SDK-HMAC-SHA256", "SDK-HMAC-SHA1"),
        good.replace("Access=", "Key="),
        good.replace(", Signature=", ", Signature=zz"),
        good.replace(";x-sdk-date", ""),
        format!("{good}, Access=AK2"),
        good.split(", Signature").next().unwrap().to_owned(),
    ] {
        let mut changed = parts.clone();
        changed
            .headers
            .insert("authorization", bad.parse().unwrap());
        assert!(
            matches!(
                verify(&changed, &body, v.secret(), v.now()),
                Err(SignatureError::Malformed(_))
            ),
            "{bad}"
        );
    }
    let mut no_date = parts.clone();
    no_date.headers.remove("x-sdk-date");
    assert_eq!(
        verify(&no_date, &body, v.secret(), v.now()),
        Err(SignatureError::BadDate)
    );
}

#[test]
fn temporary_credentials_and_unsigned_payloads_are_refused() {
    let v = Vectors::load();
    let (_, parts, body) = v.all().next().unwrap();
    let mut token = parts.clone();
    token
        .headers
        .insert("x-security-token", "t".parse().unwrap());
    assert_eq!(
        verify(&token, &body, v.secret(), v.now()),
        Err(SignatureError::SecurityToken)
    );
    let mut unsigned = parts;
    unsigned
        .headers
        .insert("x-sdk-content-sha256", "UNSIGNED-PAYLOAD".parse().unwrap());
    assert_eq!(
        verify(&unsigned, &body, v.secret(), v.now()),
        Err(SignatureError::UnsignedPayload)
    );
}
