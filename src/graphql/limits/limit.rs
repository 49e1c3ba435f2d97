//! The limits by name, and the error that says which was passed.

use std::fmt;

/// The names of the limits, as messages and settings call them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    Nesting,
    Tokens,
    Depth,
    Complexity,
    Aliases,
    RootFields,
    Directives,
}

impl Limit {
    /// The setting that raises this limit.
    pub fn variable(self) -> &'static str {
        match self {
            Self::Nesting => "AUTHQL_MAX_NESTING",
            Self::Tokens => "AUTHQL_MAX_TOKENS",
            Self::Depth => "AUTHQL_MAX_DEPTH",
            Self::Complexity => "AUTHQL_MAX_COMPLEXITY",
            Self::Aliases => "AUTHQL_MAX_ALIASES",
            Self::RootFields => "AUTHQL_MAX_ROOT_FIELDS",
            Self::Directives => "AUTHQL_MAX_DIRECTIVES",
        }
    }

    /// The name shown to clients in `extensions.limit`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nesting => "nesting",
            Self::Tokens => "tokens",
            Self::Depth => "depth",
            Self::Complexity => "complexity",
            Self::Aliases => "aliases",
            Self::RootFields => "rootFields",
            Self::Directives => "directives",
        }
    }
}

/// Why a document was refused before execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LimitError {
    /// A limit was exceeded; for the lexical limits `found` is where the scan
    /// stopped (limit + 1), not the document's full measure.
    Exceeded {
        limit: Limit,
        max: usize,
        found: usize,
    },
    /// A fragment spreads itself, directly or through others.
    FragmentCycle(String),
    /// More than one field that checks a credential (`login`, `register`,
    /// `refresh`): each would cost an argon2 hash or a token check.
    CredentialFields(usize),
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exceeded { limit, max, found } => {
                let what = match limit {
                    Limit::Nesting => "nesting",
                    Limit::Tokens => "token count",
                    Limit::Depth => "depth",
                    Limit::Complexity => "complexity (fields selected, fragments expanded)",
                    Limit::Aliases => "number of aliases",
                    Limit::RootFields => "number of root fields",
                    Limit::Directives => "number of directives",
                };
                write!(
                    f,
                    "The document exceeds the {what} limit: {found} > {max} (set by {})",
                    limit.variable()
                )
            }
            Self::FragmentCycle(name) => write!(f, "Fragment \"{name}\" spreads itself"),
            Self::CredentialFields(count) => write!(
                f,
                "A document may hold at most one field that checks a credential or \
                 sends mail (login, register, refresh, changePassword, \
                 requestPasswordReset, resetPassword, verifyEmail, \
                 resendVerificationEmail, changeEmail); this one holds {count}"
            ),
        }
    }
}

impl LimitError {
    /// `extensions.limit` for clients.
    pub fn limit_name(&self) -> &'static str {
        match self {
            Self::Exceeded { limit, .. } => limit.as_str(),
            Self::FragmentCycle(_) => "fragmentCycle",
            Self::CredentialFields(_) => "credentialFields",
        }
    }
}
