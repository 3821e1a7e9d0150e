//! Schema attributes: one constructor per constraint, so a schema reads as a list of
//! `name => optional(String, "…")` lines, and the check that configuration leaves computed
//! attributes to the provider.
//!
//! A sensitive attribute is written `Attribute { sensitive: true, ..optional(String, "…") }`.
//! Descriptions are Markdown: `tests/docs_schema.rs` renders them into the registry docs.

use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType, Description};
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

/// An attribute the configuration must set.
pub fn required(attr_type: AttributeType, description: &str) -> Attribute {
    attribute(attr_type, AttributeConstraint::Required, description)
}

/// An attribute the configuration may set; null otherwise.
pub fn optional(attr_type: AttributeType, description: &str) -> Attribute {
    attribute(attr_type, AttributeConstraint::Optional, description)
}

/// An attribute the configuration may set; the provider fills in its default otherwise.
pub fn optional_computed(attr_type: AttributeType, description: &str) -> Attribute {
    attribute(
        attr_type,
        AttributeConstraint::OptionalComputed,
        description,
    )
}

/// An attribute only the provider sets.
pub fn computed(attr_type: AttributeType, description: &str) -> Attribute {
    attribute(attr_type, AttributeConstraint::Computed, description)
}

fn attribute(
    attr_type: AttributeType,
    constraint: AttributeConstraint,
    description: &str,
) -> Attribute {
    Attribute {
        attr_type,
        constraint,
        description: Description::markdown(description),
        ..Default::default()
    }
}

/// Errors, at `name`, when the configuration sets `name`, an attribute only the provider sets.
pub fn reject_configured<T>(name: &'static str, value: &Value<T>, diags: &mut Diagnostics) {
    if !value.is_null() {
        diags.error(
            "Computed attribute set",
            format!("`{name}` is set by the provider and cannot be set in configuration."),
            AttributePath::new(name),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_set_only_constraint_type_and_markdown() {
        let a = computed(AttributeType::String, "The `id`.");
        assert_eq!(a.constraint, AttributeConstraint::Computed);
        assert_eq!(a.description, Description::markdown("The `id`."));
        assert!(!a.sensitive && !a.deprecated);
        let s = Attribute {
            sensitive: true,
            ..optional(AttributeType::String, "A secret.")
        };
        assert!(s.sensitive);
        assert_eq!(s.constraint, AttributeConstraint::Optional);
    }

    #[test]
    fn a_configured_computed_attribute_is_named() {
        let mut d = Diagnostics::default();
        reject_configured("job_ids", &Value::<Vec<Value<String>>>::Null, &mut d);
        assert!(d.errors.is_empty());
        reject_configured(
            "job_ids",
            &Value::Value(Vec::<Value<String>>::new()),
            &mut d,
        );
        let e = crate::provider::error_text(&d);
        assert_eq!(d.errors.len(), 1, "{e}");
        assert!(
            e.starts_with("Computed attribute set | `job_ids` is set by the provider and cannot be set in configuration."),
            "{e}"
        );
    }
}
