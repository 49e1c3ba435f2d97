//! The command line: the server and the operator's subcommands.

use clap::{Parser, Subcommand};

use super::*;

#[derive(Debug, Parser)]
#[command(
    name = "authql",
    version,
    about = "A self-hosted authentication API for GraphQL frontends"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Parses the command line and environment. A bad value ends the process
    /// with one line naming the flag and its variable (exit code 2); `--help`
    /// and `--version` print as usual.
    pub fn parse_or_exit() -> Self {
        match Self::try_parse() {
            Ok(cli) => cli,
            Err(error) if !error.use_stderr() => error.exit(),
            Err(error) => {
                eprintln!("authql: {}", one_line(&error));
                std::process::exit(2);
            }
        }
    }
}

/// clap's message without its `--help` hint, plus the variable behind the flag.
fn one_line(error: &clap::Error) -> String {
    use clap::CommandFactory;
    use clap::error::{ContextKind, ContextValue};

    let rendered = error.to_string();
    let first = rendered.lines().next().unwrap_or_default();
    let first = first.strip_prefix("error: ").unwrap_or(first).to_owned();
    let variable = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => {
            let long = arg
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .trim_start_matches("--");
            Cli::command()
                .get_arguments()
                .find(|a| a.get_long() == Some(long))
                .and_then(|a| a.get_env())
                .map(|env| env.to_string_lossy().into_owned())
        }
        _ => None,
    };
    match variable {
        Some(variable) => format!("{first} (set by {variable} or the flag)"),
        None => first,
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply, roll back or list database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Print the GraphQL schema (SDL); `schema.graphql` must equal it.
    Schema,
    /// List, rotate or retire the token signing keys.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Create, list, disable and enable users and set their roles.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Mail waiting in the outbox or given up on; send it again.
    Mail {
        #[command(subcommand)]
        action: MailAction,
    },
}

/// `authql mail …`: the outbox, for operators.
#[derive(Clone, Debug, Subcommand)]
pub enum MailAction {
    /// Every mail not sent yet: waiting for a retry, or given up on after
    /// AUTHQL_MAIL_MAX_ATTEMPTS, with its last error.
    List,
    /// Make mail that was given up on due again (after fixing the SMTP
    /// settings); a running server sends it.
    Retry {
        /// The mail's id, as `mail list` shows it.
        #[arg(conflicts_with = "all", required_unless_present = "all")]
        id: Option<uuid::Uuid>,
        /// Every mail given up on.
        #[arg(long)]
        all: bool,
    },
}

/// `authql user …`: the operator's account tools. A USER is named by its id
/// or its e-mail address.
#[derive(Clone, Debug, Subcommand)]
pub enum UserAction {
    /// Create an account. The password is asked for at the terminal, or
    /// read as the first line of standard input; never give it as an
    /// argument.
    Create {
        /// The e-mail address.
        #[arg(long)]
        email: String,
        /// The display name.
        #[arg(long)]
        name: String,
        /// A role besides `user` (repeatable), e.g. `--role admin`.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
    },
    /// Replace a user's roles (`user` is always kept); they are in the
    /// user's next access token.
    SetRoles {
        /// The user's id or e-mail address.
        user: String,
        /// The roles besides `user`; none leaves only `user`.
        roles: Vec<String>,
    },
    /// Disable a user: every session ends at once, logins are refused.
    Disable {
        /// The user's id or e-mail address.
        user: String,
    },
    /// Enable a disabled user again.
    Enable {
        /// The user's id or e-mail address.
        user: String,
    },
    /// List users, newest first.
    List {
        /// Only users whose name or e-mail address contains this text.
        #[arg(long)]
        query: Option<String>,
    },
    /// Rewrite addresses stored before this version in their canonical
    /// spelling (an IDN domain as its A-label, unneeded quotes dropped), so
    /// that sign-in finds them; reports accounts it must leave to you.
    CanonicalizeEmails,
}

#[derive(Clone, Debug, Subcommand)]
pub enum KeysAction {
    /// Every signing key with its algorithm, state and dates.
    List,
    /// Publish a new key now; it signs after AUTHQL_KEY_PUBLISH_AHEAD.
    Rotate,
    /// Stop trusting a (compromised) key at once; a new key signs
    /// immediately and the sessions it signed must sign in again.
    Retire {
        /// The key's `kid`, as `keys list` shows it (base64url: it may start
        /// with `-`).
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
}

#[derive(Clone, Copy, Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the most recent migration.
    Down,
    /// List migrations and whether each is applied.
    Status,
}
