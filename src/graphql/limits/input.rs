//! No control character (NUL included) in any string argument, whether
//! written in the document or passed as a variable. PostgreSQL cannot store
//! NUL in text, no user types one, and they are a classic way to confuse logs
//! and downstream systems; refusing them here keeps every field's answer the
//! same on both backends.

use async_graphql::Variables;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql_value::{ConstValue, Value};

/// The input field (or argument, or variable) whose string holds a control
/// character, if any.
pub fn find_control_character(
    document: &ExecutableDocument,
    variables: &Variables,
) -> Option<String> {
    for (name, value) in variables.iter() {
        if let Some(field) = in_const(value, name.as_str()) {
            return Some(field);
        }
    }
    for (_, operation) in document.operations.iter() {
        for variable in &operation.node.variable_definitions {
            if let Some(default) = &variable.node.default_value
                && let Some(field) = in_const(&default.node, variable.node.name.node.as_str())
            {
                return Some(field);
            }
        }
        if let Some(field) = in_set(&operation.node.selection_set.node) {
            return Some(field);
        }
    }
    document
        .fragments
        .values()
        .find_map(|fragment| in_set(&fragment.node.selection_set.node))
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

fn in_const(value: &ConstValue, name: &str) -> Option<String> {
    match value {
        ConstValue::String(text) if has_control(text) => Some(name.to_owned()),
        ConstValue::List(items) => items.iter().find_map(|item| in_const(item, name)),
        ConstValue::Object(fields) => fields
            .iter()
            .find_map(|(key, value)| in_const(value, key.as_str())),
        _ => None,
    }
}

fn in_value(value: &Value, name: &str) -> Option<String> {
    match value {
        Value::String(text) if has_control(text) => Some(name.to_owned()),
        Value::List(items) => items.iter().find_map(|item| in_value(item, name)),
        Value::Object(fields) => fields
            .iter()
            .find_map(|(key, value)| in_value(value, key.as_str())),
        _ => None,
    }
}

fn in_set(set: &SelectionSet) -> Option<String> {
    set.items.iter().find_map(|selection| {
        let directives = selection
            .node
            .directives()
            .iter()
            .flat_map(|directive| directive.node.arguments.iter());
        match &selection.node {
            Selection::Field(field) => field
                .node
                .arguments
                .iter()
                .chain(directives)
                .find_map(|(name, value)| in_value(&value.node, name.node.as_str()))
                .or_else(|| in_set(&field.node.selection_set.node)),
            Selection::InlineFragment(fragment) => directives
                .clone()
                .find_map(|(name, value)| in_value(&value.node, name.node.as_str()))
                .or_else(|| in_set(&fragment.node.selection_set.node)),
            Selection::FragmentSpread(_) => {
                let mut directives = directives;
                directives.find_map(|(name, value)| in_value(&value.node, name.node.as_str()))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn find(source: &str, variables: serde_json::Value) -> Option<String> {
        let document = parse_query(source).unwrap();
        let variables = Variables::from_json(variables);
        find_control_character(&document, &variables)
    }

    #[test]
    fn control_characters_are_found_in_variables_and_literals() {
        assert_eq!(
            find(
                "query($i: LoginInput) { a }",
                serde_json::json!({ "i": { "email": "a\u{0}b" } })
            ),
            Some("email".into())
        );
        assert_eq!(
            find(
                r#"{ a(input: { password: "x\u0007" }) }"#,
                serde_json::json!({})
            ),
            Some("password".into())
        );
        assert_eq!(
            find(
                r#"query($t: String = "\u001b[31m") { a }"#,
                serde_json::json!({})
            ),
            Some("t".into())
        );
        assert_eq!(
            find(r#"{ a(x: "café ☕") }"#, serde_json::json!({ "v": "ok" })),
            None
        );
    }
}
