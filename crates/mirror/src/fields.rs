//! Reading Stripe JSON along paths, leniently.
//!
//! Stripe renders an event at the API version in force when it was created, so one mirror
//! holds several shapes: every read tolerates a missing field, a null, or an expanded
//! object where an id string is usual.

use serde_json::Value;

/// The value at `path` (object keys; a numeric segment indexes an array).
pub fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for seg in path {
        cur = match cur {
            Value::Object(m) => m.get(*seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    if cur.is_null() { None } else { Some(cur) }
}

pub fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path)?.as_str()
}

pub fn i64_at(v: &Value, path: &[&str]) -> Option<i64> {
    at(v, path)?.as_i64()
}

pub fn bool_at(v: &Value, path: &[&str]) -> Option<bool> {
    at(v, path)?.as_bool()
}

/// An id that Stripe may send as a string or, when expanded, as an object with `id`.
pub fn id_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let x = at(v, path)?;
    x.as_str()
        .or_else(|| x.get("id").and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

/// The first path that yields a string.
pub fn first_str<'a>(v: &'a Value, paths: &[&[&str]]) -> Option<&'a str> {
    paths.iter().find_map(|p| str_at(v, p))
}

/// The first path that yields an id.
pub fn first_id<'a>(v: &'a Value, paths: &[&[&str]]) -> Option<&'a str> {
    paths.iter().find_map(|p| id_at(v, p))
}

/// The items of a Stripe list (`{object: "list", data: [...]}`) at `path`, or none.
pub fn list_at<'a>(v: &'a Value, path: &[&str]) -> impl Iterator<Item = &'a Value> {
    at(v, path)
        .and_then(|l| l.get("data"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_tolerate_nulls_expansion_and_arrays() {
        let v = json!({"a": {"b": null, "c": [{"id": "x"}], "d": {"id": "pi_1"}, "e": "pi_2"}});
        assert_eq!(at(&v, &["a", "b"]), None);
        assert_eq!(str_at(&v, &["a", "c", "0", "id"]), Some("x"));
        assert_eq!(id_at(&v, &["a", "d"]), Some("pi_1"));
        assert_eq!(id_at(&v, &["a", "e"]), Some("pi_2"));
        assert_eq!(first_id(&v, &[&["a", "b"], &["a", "e"]]), Some("pi_2"));
        assert_eq!(list_at(&v, &["a"]).count(), 0);
        assert_eq!(list_at(&json!({"l": {"data": [1, 2]}}), &["l"]).count(), 2);
    }
}
