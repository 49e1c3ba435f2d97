//! The measure of a parsed document without expanding it: each fragment is
//! costed once (memoised) and its cost reused at every spread, so the work is
//! linear in the document's size however many times fragments multiply.
//! Counts saturate instead of overflowing (2^k fields for large k).

use std::collections::HashMap;

use async_graphql::Name;
use async_graphql::Positioned;
use async_graphql::parser::types::{
    Directive, ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};

use super::{DocumentLimits, Limit, LimitError};

/// Mutation fields that check a credential or a mailed link's token, or
/// send mail: each may cost an argon2 hash, a token check or a mail, so a
/// document holds at most one of them in all.
pub const CREDENTIAL_FIELDS: [&str; 24] = [
    "login",
    "register",
    "refresh",
    "changePassword",
    "requestPasswordReset",
    "resetPassword",
    "verifyEmail",
    "resendVerificationEmail",
    "changeEmail",
    "startProviderSignIn",
    "completeProviderSignIn",
    "startProviderLink",
    "completeProviderLink",
    "unlinkProvider",
    "enrollTotp",
    "confirmTotp",
    "verifySecondFactor",
    "startPasskeyRegistration",
    "finishPasskeyRegistration",
    "startPasskeySignUp",
    "finishPasskeySignUp",
    "startPasskeySignIn",
    "finishPasskeySignIn",
    "removePasskey",
];

/// What a selection set costs once its fragments are expanded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Cost {
    /// Fields selected at any depth.
    fields: usize,
    /// Nested selection sets below (a leaf field has depth 1).
    depth: usize,
    aliases: usize,
    /// Fields at this level (through fragments spread at this level).
    top_fields: usize,
    /// Credential fields at this level.
    top_credentials: usize,
}

impl Cost {
    fn add(&mut self, other: Cost) {
        self.fields = self.fields.saturating_add(other.fields);
        self.depth = self.depth.max(other.depth);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.top_fields = self.top_fields.saturating_add(other.top_fields);
        self.top_credentials = self.top_credentials.saturating_add(other.top_credentials);
    }
}

/// Checks every operation of `document` against `limits`, and that the
/// document holds at most one credential field.
pub fn check(document: &ExecutableDocument, limits: &DocumentLimits) -> Result<(), LimitError> {
    let directives = count_directives(document);
    if directives > limits.max_directives {
        return Err(exceeded(
            Limit::Directives,
            limits.max_directives,
            directives,
        ));
    }
    let mut costing = Costing {
        fragments: &document.fragments,
        memo: HashMap::new(),
    };
    let costs = document
        .operations
        .iter()
        .map(|(_, operation)| costing.selection_set(&operation.node.selection_set.node))
        .collect::<Result<Vec<Cost>, LimitError>>()?;
    // First, as the reason that matters most when a document multiplies logins.
    let credentials = costs
        .iter()
        .fold(0usize, |sum, cost| sum.saturating_add(cost.top_credentials));
    if credentials > 1 {
        return Err(LimitError::CredentialFields(credentials));
    }
    for cost in costs {
        for (limit, max, found) in [
            (Limit::Complexity, limits.max_complexity, cost.fields),
            (Limit::Depth, limits.max_depth, cost.depth),
            (Limit::Aliases, limits.max_aliases, cost.aliases),
            (Limit::RootFields, limits.max_root_fields, cost.top_fields),
        ] {
            if found > max {
                return Err(exceeded(limit, max, found));
            }
        }
    }
    Ok(())
}

fn exceeded(limit: Limit, max: usize, found: usize) -> LimitError {
    LimitError::Exceeded { limit, max, found }
}

/// A fragment's cost: being computed (a spread met now is a cycle) or known.
enum Memo {
    InProgress,
    Done(Cost),
}

struct Costing<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    memo: HashMap<&'a str, Memo>,
}

impl<'a> Costing<'a> {
    /// Recursion follows the document's nesting (bounded by the lexical
    /// scan) and each fragment's definition at most once.
    fn selection_set(&mut self, set: &'a SelectionSet) -> Result<Cost, LimitError> {
        let mut cost = Cost::default();
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let below = self.selection_set(&field.selection_set.node)?;
                    let name = field.name.node.as_str();
                    cost.add(Cost {
                        fields: below.fields.saturating_add(1),
                        depth: below.depth.saturating_add(1),
                        aliases: below
                            .aliases
                            .saturating_add(usize::from(field.alias.is_some())),
                        top_fields: 1,
                        top_credentials: usize::from(CREDENTIAL_FIELDS.contains(&name)),
                    });
                }
                Selection::InlineFragment(fragment) => {
                    cost.add(self.selection_set(&fragment.node.selection_set.node)?);
                }
                Selection::FragmentSpread(spread) => {
                    cost.add(self.fragment(spread.node.fragment_name.node.as_str())?);
                }
            }
        }
        Ok(cost)
    }

    fn fragment(&mut self, name: &'a str) -> Result<Cost, LimitError> {
        match self.memo.get(name) {
            Some(Memo::Done(cost)) => return Ok(*cost),
            Some(Memo::InProgress) => return Err(LimitError::FragmentCycle(name.to_owned())),
            None => {}
        }
        // An unknown fragment costs nothing here; validation reports it.
        let Some((key, definition)) = self.fragments.get_key_value(name) else {
            return Ok(Cost::default());
        };
        self.memo.insert(key.as_str(), Memo::InProgress);
        let cost = self.selection_set(&definition.node.selection_set.node)?;
        self.memo.insert(key.as_str(), Memo::Done(cost));
        Ok(cost)
    }
}

/// Directives as written (not expanded): on operations, variables, fields,
/// spreads, inline fragments and fragment definitions.
fn count_directives(document: &ExecutableDocument) -> usize {
    fn in_set(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|selection| {
                let own = selection.node.directives().len();
                let below = match &selection.node {
                    Selection::Field(field) => in_set(&field.node.selection_set.node),
                    Selection::InlineFragment(fragment) => {
                        in_set(&fragment.node.selection_set.node)
                    }
                    Selection::FragmentSpread(_) => 0,
                };
                own.saturating_add(below)
            })
            .fold(0, usize::saturating_add)
    }
    fn own(directives: &[Positioned<Directive>]) -> usize {
        directives.len()
    }
    let operations = document.operations.iter().map(|(_, operation)| {
        let variables: usize = operation
            .node
            .variable_definitions
            .iter()
            .map(|v| own(&v.node.directives))
            .sum();
        own(&operation.node.directives)
            .saturating_add(variables)
            .saturating_add(in_set(&operation.node.selection_set.node))
    });
    let fragments = document.fragments.values().map(|fragment| {
        own(&fragment.node.directives).saturating_add(in_set(&fragment.node.selection_set.node))
    });
    operations.chain(fragments).fold(0, usize::saturating_add)
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn check_source(source: &str) -> Result<(), LimitError> {
        check(&parse_query(source).unwrap(), &DocumentLimits::default())
    }

    /// `fragment F1 on Query { ...F0 ...F0 }` … : 2^k fields in O(k) text.
    fn doubling(k: usize) -> String {
        let mut doc = String::from("query { ...F");
        doc.push_str(&k.to_string());
        doc.push_str(" }\nfragment F0 on Query { __typename }\n");
        for i in 1..=k {
            doc.push_str(&format!(
                "fragment F{i} on Query {{ ...F{j} ...F{j} }}\n",
                j = i - 1
            ));
        }
        doc
    }

    #[test]
    fn fragment_doubling_is_measured_without_expanding() {
        assert!(check_source(&doubling(4)).is_ok(), "16 fields fit");
        let started = std::time::Instant::now();
        let refused = check_source(&doubling(200));
        assert!(started.elapsed() < std::time::Duration::from_millis(50));
        assert!(matches!(
            refused,
            Err(LimitError::Exceeded {
                limit: Limit::Complexity,
                found: usize::MAX,
                ..
            })
        ));
    }

    #[test]
    fn a_fragment_cycle_is_refused() {
        let cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert!(matches!(
            check_source(cycle),
            Err(LimitError::FragmentCycle(_))
        ));
    }

    #[test]
    fn credential_fields_are_counted_through_aliases_and_fragments() {
        assert!(check_source("mutation { login(input: {}) { accessToken } }").is_ok());
        for source in [
            "mutation { a: login(input: {}) { accessToken } b: login(input: {}) { accessToken } }",
            "mutation { ...L ...L } fragment L on Mutation { login(input: {}) { accessToken } }",
            "mutation { login(input: {}) { accessToken } ... on Mutation { refresh { accessToken } } }",
            "mutation A { login(input: {}) { accessToken } } mutation B { register(input: {}) { accessToken } }",
        ] {
            assert_eq!(
                check_source(source),
                Err(LimitError::CredentialFields(2)),
                "{source}"
            );
        }
    }

    #[test]
    fn depth_aliases_root_fields_and_directives_are_bounded() {
        let deep = format!("{{ {}a{} }}", "a { ".repeat(16), " }".repeat(16));
        assert!(matches!(
            check_source(&deep),
            Err(LimitError::Exceeded {
                limit: Limit::Depth,
                found: 17,
                ..
            })
        ));
        let aliases: String = (0..31).map(|i| format!("a{i}: __typename ")).collect();
        assert!(matches!(
            check_source(&format!("{{ ... on Query {{ {aliases} }} }}")),
            Err(LimitError::Exceeded {
                limit: Limit::Aliases,
                ..
            })
        ));
        let roots = "__typename ".repeat(21);
        assert!(matches!(
            check_source(&format!("{{ {roots} }}")),
            Err(LimitError::Exceeded {
                limit: Limit::RootFields,
                found: 21,
                ..
            })
        ));
        let directives = "@include(if: true) ".repeat(31);
        assert!(matches!(
            check_source(&format!("{{ __typename {directives} }}")),
            Err(LimitError::Exceeded {
                limit: Limit::Directives,
                found: 31,
                ..
            })
        ));
    }
}
