//! The canonical request of the signer: method, URI, query, headers, signed header names and
//! body hash, one per line.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What the signer leaves unescaped: RFC 3986's unreserved characters (Python's
/// `quote(s, safe='~')`).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The canonical request, or `None` when a signed header is absent (the signature cannot then
/// match).
pub(crate) fn request(
    parts: &http::request::Parts,
    signed_headers: &[String],
    body_hash: &str,
) -> Option<String> {
    let mut out = String::with_capacity(256);
    out.push_str(parts.method.as_str());
    out.push('\n');
    uri(parts.uri.path(), &mut out);
    out.push('\n');
    query(parts.uri.query().unwrap_or_default(), &mut out);
    out.push('\n');
    for name in signed_headers {
        let value = super::header_text(&parts.headers, name)?;
        out.push_str(name);
        out.push(':');
        out.push_str(&value);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(body_hash);
    Some(out)
}

/// Each segment of the decoded path escaped again, and a trailing `/`.
fn uri(path: &str, out: &mut String) {
    let decoded = percent_decode_str(path).decode_utf8_lossy();
    for (i, segment) in decoded.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.extend(utf8_percent_encode(segment, UNRESERVED));
    }
    if !out.ends_with('/') {
        out.push('/');
    }
}

/// The query's pairs, decoded, sorted by key then value, escaped again and joined by `&`.
fn query(raw: &str, out: &mut String) {
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let mut pairs: Vec<(String, String)> = raw
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    pairs.sort();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.extend(utf8_percent_encode(k, UNRESERVED));
        out.push('=');
        out.extend(utf8_percent_encode(v, UNRESERVED));
    }
}
