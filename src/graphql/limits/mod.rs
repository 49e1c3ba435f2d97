//! Limits that keep every document cheap before async-graphql spends work on
//! it. Three passes, each linear in the size of the request:
//!
//! 1. [`lexical`]: the raw text (the GraphQL document, the JSON body, the
//!    variables) is scanned once for nesting and token count before any
//!    parser sees it. async-graphql's parser and value converters recurse once
//!    per nesting level, so a value nested ~1,700 deep used to overflow a
//!    worker's stack and abort the process.
//! 2. [`operation`]: the parsed document's size, depth, aliases, root fields
//!    and directives, computed with each fragment costed once and reused, so a
//!    fragment-doubling document (2^k fields in 2 KB) is refused in
//!    microseconds instead of being expanded by validation.
//! 3. [`input`]: no control character in any string argument.
//!
//! Over a limit is a request error whose message names the limit and the
//! setting that raises it.

pub mod input;
pub mod lexical;
mod limit;
pub mod operation;

pub use crate::config::DocumentLimits;
pub use limit::{Limit, LimitError};
