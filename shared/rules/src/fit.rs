//! Cutting a trace down to a size: its bulk first (`request`, `response`, a CloudTrail record's
//! `requestParameters` and `responseElements`), then the largest other strings, then the largest
//! other members; the fields a subscriber identifies and filters the event by are cut last.
//! Only traces over the limit take this path, so it favours simplicity over speed.

use serde_json::Value;

/// Cut first, whole, in this order.
const BULK: [&[&str]; 4] = [
    &["request"],
    &["response"],
    &["cloudtrail", "requestParameters"],
    &["cloudtrail", "responseElements"],
];

/// What a subscriber needs to identify and filter the event: kept while anything else can go.
const IDENTITY: [&[&str]; 18] = [
    &["trace_id"],
    &["trace_name"],
    &["service_type"],
    &["resource_type"],
    &["resource_id"],
    &["resource_name"],
    &["code"],
    &["trace_rating"],
    &["trace_type"],
    &["time"],
    &["record_time"],
    &["source_ip"],
    &["project_id"],
    &["user", "name"],
    &["user", "id"],
    &["user", "domain", "name"],
    &["user", "domain", "id"],
    &["user", "type"],
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

type Path = Vec<Step>;

fn show(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn keys(path: &[Step]) -> Option<Vec<&str>> {
    path.iter()
        .map(|s| match s {
            Step::Key(k) => Some(k.as_str()),
            Step::Index(_) => None,
        })
        .collect()
}

/// Is `path` an identity field, or an object holding one (which may only be thinned)?
fn guarded(path: &[Step]) -> (bool, bool) {
    let Some(k) = keys(path) else {
        return (false, false);
    };
    let identity = IDENTITY.contains(&k.as_slice());
    let holds = IDENTITY
        .iter()
        .any(|p| p.len() > k.len() && p[..k.len()] == k[..]);
    (identity, holds)
}

fn size(v: &Value) -> usize {
    serde_json::to_string(v).map_or(usize::MAX, |s| s.len())
}

fn get_mut<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, step| match step {
        Step::Key(k) => v.get_mut(k.as_str()),
        Step::Index(i) => v.get_mut(*i),
    })
}

fn remove(v: &mut Value, path: &[Step]) -> bool {
    let Some((last, parent)) = path.split_last() else {
        return false;
    };
    match (get_mut(v, parent), last) {
        (Some(Value::Object(m)), Step::Key(k)) => m.remove(k).is_some(),
        (Some(Value::Array(a)), Step::Index(i)) if *i < a.len() => {
            a.remove(*i);
            true
        }
        _ => false,
    }
}

/// Every member below `v` with its path and serialized size: strings, or any value.
fn members(v: &Value, path: &mut Path, strings_only: bool, out: &mut Vec<(usize, Path)>) {
    let mut visit = |child: &Value, step: Step, out: &mut Vec<(usize, Path)>| {
        path.push(step);
        if !strings_only || child.is_string() {
            out.push((size(child), path.clone()));
        }
        members(child, path, strings_only, out);
        path.pop();
    };
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                visit(child, Step::Key(k.clone()), out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                visit(child, Step::Index(i), out);
            }
        }
        _ => {}
    }
}

/// Strings shorter than this are cut with the member that holds them, not one by one: cutting
/// many small strings one at a time would take time quadratic in the trace.
const LARGE_STRING: usize = 1024;

/// The largest member that may be cut (identity fields only when `identity_too`); strings
/// only when `strings_only`, and then only large ones.
fn largest(v: &Value, strings_only: bool, identity_too: bool) -> Option<Path> {
    let mut all = Vec::new();
    members(v, &mut Vec::new(), strings_only, &mut all);
    let least = if strings_only && !identity_too {
        LARGE_STRING
    } else {
        3
    };
    all.into_iter()
        .filter(|(n, _)| *n >= least)
        .filter(|(_, p)| {
            let (identity, holds) = guarded(p);
            identity_too || !(identity || holds)
        })
        .max_by_key(|(n, _)| *n)
        .map(|(_, p)| p)
}

/// Shortens the string at `path` by at least `by` bytes (at a character boundary).
fn shorten(v: &mut Value, path: &[Step], by: usize) {
    if let Some(Value::String(s)) = get_mut(v, path) {
        let mut keep = s.len().saturating_sub(by);
        while !s.is_char_boundary(keep) {
            keep -= 1;
        }
        s.truncate(keep);
    }
}

/// The trace's JSON cut to at most `budget` bytes, and the paths of what was cut. `None` when
/// the text is not a JSON object or even its skeleton does not fit.
pub(crate) fn fit(trace_json: &str, budget: usize) -> Option<(String, Vec<String>)> {
    let mut v: Value = serde_json::from_str(trace_json).ok()?;
    if !v.is_object() {
        return None;
    }
    let mut cut: Vec<String> = Vec::new();
    let note = |p: &[Step], cut: &mut Vec<String>| {
        let shown = show(p);
        if !cut.contains(&shown) {
            cut.push(shown);
        }
    };
    for bulk in BULK {
        if size(&v) <= budget {
            break;
        }
        let path: Path = bulk.iter().map(|k| Step::Key((*k).to_owned())).collect();
        if remove(&mut v, &path) {
            note(&path, &mut cut);
        }
    }
    // Strings, then whole members, then identity strings as a last resort.
    for (strings_only, identity_too) in [(true, false), (false, false), (true, true)] {
        while size(&v) > budget {
            let Some(path) = largest(&v, strings_only, identity_too) else {
                break;
            };
            let over = size(&v) - budget;
            let is_string = matches!(get_mut(&mut v, &path), Some(Value::String(_)));
            if is_string {
                // Each byte cut shortens the JSON text by at least one byte.
                shorten(&mut v, &path, over + 16);
            } else {
                remove(&mut v, &path);
            }
            note(&path, &mut cut);
        }
    }
    let text = serde_json::to_string(&v).ok()?;
    (text.len() <= budget).then_some((text, cut))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_goes_first_and_identity_stays() {
        let trace = serde_json::json!({
            "trace_id": "t1", "trace_name": "putObject", "service_type": "OBS", "resource_type": "bucket",
            "user": {"name": "ops-alice", "invoked_by": ["x".repeat(1000)]},
            "request": "r".repeat(5000), "response": "s".repeat(5000), "message": "m".repeat(3000)
        })
        .to_string();
        let (text, cut) = fit(&trace, 4500).unwrap();
        assert!(text.len() <= 4500);
        assert_eq!(cut, ["request", "response"]);
        let (text, cut) = fit(&trace, 1000).unwrap();
        assert!(text.len() <= 1000, "{}", text.len());
        assert_eq!(cut, ["request", "response", "message", "user.invoked_by"]);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (v["trace_id"].as_str(), v["user"]["name"].as_str()),
            (Some("t1"), Some("ops-alice"))
        );
    }

    #[test]
    fn identity_is_cut_only_when_nothing_else_is_left() {
        let trace = serde_json::json!({"trace_id": "t1", "resource_name": "n".repeat(10_000), "extra": {"a": 1}}).to_string();
        let (text, cut) = fit(&trace, 2000).unwrap();
        assert!(text.len() <= 2000);
        assert_eq!(cut, ["extra", "resource_name"]);
        assert!(fit(&trace, 5).is_none(), "not even the skeleton fits");
    }
}
