//! AK/SK request signatures: `SDK-HMAC-SHA256`, the Huawei Cloud API Gateway scheme every Huawei
//! SDK (and so the Terraform provider) signs with. The canonical request is the method, the URI
//! with a trailing `/`, the sorted query, the headers named in `SignedHeaders`, and the hex
//! SHA-256 of the body; the string to sign is `SDK-HMAC-SHA256\n<X-Sdk-Date>\n<hex sha256 of the
//! canonical request>`; the signature is its hex HMAC-SHA256 under the secret key. The Python
//! SDK's `huaweicloudsdkcore/signer/signer.py` is the reference this follows.
//!
//! Pure: the caller looks the access key up and passes the time in.

mod canonical;
mod date;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

pub use date::{format_sdk_date, parse_sdk_date};

/// The scheme's name, first word of `Authorization`.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// The most `X-Sdk-Date` may be away from the verifier's clock, either way.
pub const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;

type HmacSha256 = Hmac<Sha256>;

/// Why a request's signature is not accepted. Every variant means 401 to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request is not signed: the Authorization header is missing")]
    Missing,
    #[error("the Authorization header is malformed: {0}")]
    Malformed(&'static str),
    #[error("X-Sdk-Date is missing or not of the form YYYYMMDDTHHMMSSZ")]
    BadDate,
    #[error("X-Sdk-Date is more than 15 minutes away from the server's time")]
    Stale,
    #[error("the access key is unknown")]
    UnknownKey,
    #[error("temporary credentials (X-Security-Token) are not supported: sign with a permanent access key")]
    SecurityToken,
    #[error("X-Sdk-Content-Sha256 must be the SHA-256 of the body: unsigned payloads are refused")]
    UnsignedPayload,
    #[error("the signature does not match the request")]
    Mismatch,
}

/// The parts of an `Authorization: SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…`
/// header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key: String,
    /// Lower-case header names, as listed.
    pub signed_headers: Vec<String>,
    signature: [u8; 32],
}

impl Authorization {
    /// Parses the request's `Authorization` header; also refuses temporary credentials.
    pub fn from_headers(headers: &http::HeaderMap) -> Result<Authorization, SignatureError> {
        if headers.contains_key("x-security-token") {
            return Err(SignatureError::SecurityToken);
        }
        let value = headers
            .get(http::header::AUTHORIZATION)
            .ok_or(SignatureError::Missing)?;
        let value = value
            .to_str()
            .map_err(|_| SignatureError::Malformed("not ASCII"))?;
        Self::parse(value)
    }

    /// Parses an `Authorization` value.
    pub fn parse(value: &str) -> Result<Authorization, SignatureError> {
        let rest = value
            .strip_prefix(ALGORITHM)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or(SignatureError::Malformed(
                "the scheme must be SDK-HMAC-SHA256",
            ))?;
        let (mut access, mut headers, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let (k, v) = part
                .trim()
                .split_once('=')
                .ok_or(SignatureError::Malformed(
                    "expected Access=, SignedHeaders=, Signature=",
                ))?;
            let slot = match k {
                "Access" => &mut access,
                "SignedHeaders" => &mut headers,
                "Signature" => &mut signature,
                _ => return Err(SignatureError::Malformed("unknown field")),
            };
            if slot.replace(v).is_some() {
                return Err(SignatureError::Malformed("a field is repeated"));
            }
        }
        let access_key = access
            .filter(|a| {
                (1..=128).contains(&a.len()) && a.bytes().all(|b| b.is_ascii_alphanumeric())
            })
            .ok_or(SignatureError::Malformed("Access must be an access key"))?;
        let signed_headers: Vec<String> = headers
            .ok_or(SignatureError::Malformed("SignedHeaders is required"))?
            .split(';')
            .map(str::to_owned)
            .collect();
        if signed_headers.iter().any(|h| {
            h.is_empty()
                || h.bytes().any(|b| {
                    !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
                })
        }) {
            return Err(SignatureError::Malformed(
                "SignedHeaders must be lower-case header names joined by ;",
            ));
        }
        if !signed_headers.iter().any(|h| h == "x-sdk-date") {
            return Err(SignatureError::Malformed(
                "SignedHeaders must include x-sdk-date",
            ));
        }
        let signature = signature
            .and_then(decode_hex32)
            .ok_or(SignatureError::Malformed("Signature must be 64 hex digits"))?;
        Ok(Authorization {
            access_key: access_key.to_owned(),
            signed_headers,
            signature,
        })
    }

    /// Checks the signature of `request` (whose body is `body`) under `secret_key`, at
    /// `now_secs` (epoch seconds).
    pub fn verify(
        &self,
        request: &http::request::Parts,
        body: &[u8],
        secret_key: &str,
        now_secs: i64,
    ) -> Result<(), SignatureError> {
        let date = header_text(&request.headers, "x-sdk-date").ok_or(SignatureError::BadDate)?;
        let signed_at = parse_sdk_date(&date).ok_or(SignatureError::BadDate)?;
        if (now_secs - signed_at).abs() > MAX_CLOCK_SKEW_SECS {
            return Err(SignatureError::Stale);
        }
        let body_hash = hex(&Sha256::digest(body));
        if let Some(declared) = header_text(&request.headers, "x-sdk-content-sha256") {
            if !declared.eq_ignore_ascii_case(&body_hash) {
                return Err(SignatureError::UnsignedPayload);
            }
        }
        let canonical = canonical::request(request, &self.signed_headers, &body_hash)
            .ok_or(SignatureError::Mismatch)?;
        // verify_slice compares in constant time.
        mac(secret_key, &date, &canonical)
            .verify_slice(&self.signature)
            .map_err(|_| SignatureError::Mismatch)
    }
}

/// Signs `request` as the Huawei SDKs do, over every header it has (which must include
/// `Host` and `X-Sdk-Date`): the value of its `Authorization` header. For tests and tools.
pub fn sign(
    request: &http::request::Parts,
    body: &[u8],
    access_key: &str,
    secret_key: &str,
) -> String {
    let mut signed: Vec<String> = request
        .headers
        .keys()
        .map(|k| k.as_str().to_owned())
        .collect();
    signed.sort();
    signed.dedup();
    let date = header_text(&request.headers, "x-sdk-date").unwrap_or_default();
    let canonical =
        canonical::request(request, &signed, &hex(&Sha256::digest(body))).unwrap_or_default();
    let signature = hex(&mac(secret_key, &date, &canonical).finalize().into_bytes());
    format!(
        "{ALGORITHM} Access={access_key}, SignedHeaders={}, Signature={signature}",
        signed.join(";")
    )
}

fn mac(secret_key: &str, date: &str, canonical: &str) -> HmacSha256 {
    let mut mac =
        HmacSha256::new_from_slice(secret_key.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(ALGORITHM.as_bytes());
    mac.update(b"\n");
    mac.update(date.as_bytes());
    mac.update(b"\n");
    mac.update(hex(&Sha256::digest(canonical.as_bytes())).as_bytes());
    mac
}

/// A header's values, trimmed and joined by `,` (as API Gateway joins repeated headers).
fn header_text(headers: &http::HeaderMap, name: &str) -> Option<String> {
    let mut values = headers.get_all(name).iter().peekable();
    values.peek()?;
    let parts: Option<Vec<&str>> = values
        .map(|v| std::str::from_utf8(v.as_bytes()).ok().map(str::trim))
        .collect();
    Some(parts?.join(","))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    let digits = s.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = [0u8; 32];
    for (i, pair) in digits.chunks(2).enumerate() {
        out[i] = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}
