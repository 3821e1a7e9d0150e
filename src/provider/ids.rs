//! Server id lists as every resource of this provider takes and reports them: the state
//! type, the checks on a configured list, and how a diagnostic lists ids.

use std::collections::HashMap;

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use crate::api::models::is_server_id;

/// A list of ids as it appears in state: unknown until apply, each element possibly unknown.
pub type IdList = Value<Vec<Value<String>>>;

/// The most ids one resource takes. Terraform sends config, proposed and prior state in one
/// gRPC message and tf-provider keeps tonic's 4 MiB limit on it: about 38 bytes per id per
/// copy and up to five copies put the safe bound here. Larger fleets use `for_each`.
pub const MAX_SERVER_IDS: usize = 10_000;
/// How many invalid ids validation names one by one before it counts the rest.
pub const MAX_LISTED_INVALID_IDS: usize = 20;
/// How many servers an apply diagnostic lists (failed, missing, unconfirmed) before it says
/// "and N more".
pub const MAX_LISTED_FAILURES: usize = 20;

/// `ids` as a known list in state.
pub fn id_list(ids: &[String]) -> IdList {
    Value::Value(ids.iter().cloned().map(Value::Value).collect())
}

/// The ids as plain strings, when the list and every element are known.
pub fn known_ids(list: &IdList) -> Option<Vec<String>> {
    list.as_ref_option()?
        .iter()
        .map(|v| v.as_ref_option().cloned())
        .collect()
}

/// Plan-time checks of a configured `server_ids`: not empty, not too long, each a server id
/// listed once. `verb` is what the resource does to the servers.
pub fn check_server_ids(list: &IdList, resource_type: &str, verb: &str, diags: &mut Diagnostics) {
    let Value::Value(ids) = list else {
        return;
    };
    if ids.is_empty() {
        diags.error(
            format!("No servers to {verb}"),
            "`server_ids` is empty; list at least one server id.",
            AttributePath::new("server_ids"),
        );
    }
    check_id_count(ids, "server_ids", resource_type, verb, diags);
    check_each_id(ids, "server_ids", diags);
}

/// Errors at `attribute` when `ids` is longer than [`MAX_SERVER_IDS`]; the detail shows how
/// to spread the fleet over several `resource_type` resources, which share the pacing of
/// the operation `verb`.
pub fn check_id_count<T>(
    ids: &[T],
    attribute: &'static str,
    resource_type: &str,
    verb: &str,
    diags: &mut Diagnostics,
) {
    if ids.len() > MAX_SERVER_IDS {
        diags.error(
            "Too many server ids for one resource",
            format!(
                "`{attribute}` has {} ids; one {resource_type} takes at most {MAX_SERVER_IDS} (Terraform's plugin messages are limited to 4 MiB). Spread a larger fleet over several resources, which share the provider's {verb}-rate pacing:\n\n  resource \"{resource_type}\" \"fleet\" {{\n    for_each   = {{ for i, c in chunklist(local.{attribute}, {MAX_SERVER_IDS}) : i => c }}\n    {attribute} = each.value\n  }}",
                ids.len()
            ),
            AttributePath::new(attribute),
        );
    }
}

/// Errors at each known element of `attribute` that is not a server id (the first
/// [`MAX_LISTED_INVALID_IDS`] by index, then a count) or repeats an earlier one, ignoring case.
pub fn check_each_id(ids: &[Value<String>], attribute: &'static str, diags: &mut Diagnostics) {
    let mut first_seen: HashMap<String, usize> = HashMap::new();
    let mut invalid = 0usize;
    for (i, v) in ids.iter().enumerate() {
        let Value::Value(id) = v else { continue };
        let at = || AttributePath::new(attribute).index(i as i64);
        if !is_server_id(id) {
            invalid += 1;
            if invalid <= MAX_LISTED_INVALID_IDS {
                diags.error(
                    "Invalid server id",
                    format!("{attribute}[{i}] is {id:?}, which is not a server id: ECS server ids are UUIDs such as \"616fb98f-46ca-475e-917e-2563e5a8cd19\"."),
                    at(),
                );
            }
            continue;
        }
        if let Some(&first) = first_seen.get(&id.to_ascii_lowercase()) {
            diags.error(
                "Duplicate server id",
                format!("{attribute}[{i}] is {id:?}, the same server as {attribute}[{first}] (ids are compared case-insensitively). List each server once, for example with distinct(lower(...))."),
                at(),
            );
        } else {
            first_seen.insert(id.to_ascii_lowercase(), i);
        }
    }
    if invalid > MAX_LISTED_INVALID_IDS {
        diags.error(
            "Invalid server ids",
            format!(
                "{} more entries of {attribute} are not server ids.",
                invalid - MAX_LISTED_INVALID_IDS
            ),
            AttributePath::new(attribute),
        );
    }
}

/// The first [`MAX_LISTED_FAILURES`] ids, comma-separated, then "… and N more".
pub fn shorten(ids: &[String]) -> String {
    let mut s = ids
        .iter()
        .take(MAX_LISTED_FAILURES)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > MAX_LISTED_FAILURES {
        s.push_str(&format!(" … and {} more", ids.len() - MAX_LISTED_FAILURES));
    }
    s
}

/// Server ids and id lists for the unit tests of this layer.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::IdList;
    use tf_provider::value::Value;

    pub const A: &str = "616fb98f-46ca-475e-917e-2563e5a8cd19";
    pub const B: &str = "6a1b7f6e-0b4f-4b9b-8f4a-0d3c2f1e9a77";

    /// A known list of these strings.
    pub fn ids(v: &[&str]) -> IdList {
        Value::Value(v.iter().map(|s| Value::Value(s.to_string())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ids_needs_every_element() {
        let known = id_list(&["a".into(), "b".into()]);
        assert_eq!(known_ids(&known), Some(vec!["a".into(), "b".into()]));
        let partly = Value::Value(vec![Value::Value("a".into()), Value::Unknown]);
        assert_eq!(known_ids(&partly), None);
        assert_eq!(known_ids(&Value::Unknown), None);
    }

    #[test]
    fn long_lists_are_shortened_with_a_count() {
        let ids: Vec<String> = (0..MAX_LISTED_FAILURES + 3)
            .map(|i| i.to_string())
            .collect();
        let s = shorten(&ids);
        assert!(s.starts_with("0, 1, 2"), "{s}");
        assert!(s.ends_with(" … and 3 more"), "{s}");
        assert_eq!(shorten(&ids[..2]), "0, 1");
    }
}
