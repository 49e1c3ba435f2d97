//! Relay connections: `first`/`after` parsed into a store page, a page of
//! rows turned into a connection with `pageInfo` and `totalCount`.

use async_graphql::{OutputType, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use super::audit::{AuditEventObject, SecurityEvent};
use super::errors::FieldErrors;
use super::types::{Session, User};
use crate::domain::{Page, Slice};

/// Items on a page when `first` is not given.
pub const DEFAULT_PAGE_SIZE: i32 = 20;
/// The most items one page may ask for.
pub const MAX_PAGE_SIZE: i32 = 100;

/// One page of a list, newest first (a Relay connection): ask for the next
/// page with `after: pageInfo.endCursor` while `pageInfo.hasNextPage`.
#[derive(SimpleObject)]
#[graphql(
    concrete(name = "UserConnection", params(User)),
    concrete(name = "SessionConnection", params(Session)),
    concrete(name = "SecurityEventConnection", params(SecurityEvent)),
    concrete(name = "AuditEventConnection", params(AuditEventObject))
)]
pub struct Paged<Node>
where
    Node: OutputType,
    Edge<Node>: OutputType,
{
    /// The items of this page, each with its cursor.
    pub edges: Vec<Edge<Node>>,
    /// The items of this page, without cursors.
    pub nodes: Vec<Node>,
    /// Where this page is in the list.
    pub page_info: PageInfo,
    /// How many items the list has, on every page together.
    pub total_count: i64,
}

/// An item of a page and its cursor.
#[derive(SimpleObject)]
#[graphql(
    concrete(name = "UserEdge", params(User)),
    concrete(name = "SessionEdge", params(Session)),
    concrete(name = "SecurityEventEdge", params(SecurityEvent)),
    concrete(name = "AuditEventEdge", params(AuditEventObject))
)]
pub struct Edge<Node: OutputType> {
    /// Names this item's place: pass it as `after` to read what follows.
    pub cursor: String,
    /// The item.
    pub node: Node,
}

/// Where a page is in its list.
#[derive(SimpleObject)]
pub struct PageInfo {
    /// Whether items follow this page.
    pub has_next_page: bool,
    /// Whether items precede this page (it was asked for with `after`).
    pub has_previous_page: bool,
    /// The cursor of the page's first item; null for an empty page.
    pub start_cursor: Option<String>,
    /// The cursor of the page's last item; null for an empty page.
    pub end_cursor: Option<String>,
}

/// Items a page may hold per unit of its weight.
const ITEMS_PER_WEIGHT: i32 = 10;

/// What a page costs against `AUTHQL_MAX_COMPLEXITY`: what is selected of
/// it (`child_complexity`: one item's fields, `pageInfo`, `totalCount`)
/// once for every ten items it may hold. One page of a hundred with every
/// field fits; twenty aliased pages of a hundred sessions, which would make
/// an answer of megabytes, do not: no answer holds more than about ten
/// field values per unit of the limit.
pub fn cost(first: Option<i32>, child_complexity: usize) -> usize {
    let items = first.map_or(DEFAULT_PAGE_SIZE, |n| n.clamp(1, MAX_PAGE_SIZE));
    let weight = (items + ITEMS_PER_WEIGHT - 1) / ITEMS_PER_WEIGHT;
    usize::try_from(weight)
        .unwrap_or(1)
        .saturating_mul(child_complexity.max(1))
}

/// The store page `first` and `after` ask for: 1 to [`MAX_PAGE_SIZE`] items
/// after the cursor.
pub fn page(first: Option<i32>, after: Option<String>) -> Result<Page, FieldErrors> {
    let mut errors = FieldErrors::default();
    let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_PAGE_SIZE).contains(&first) {
        errors.add("first", format!("must be 1 to {MAX_PAGE_SIZE}"));
    }
    let after = match after {
        None => None,
        Some(cursor) => match decode(&cursor) {
            Some(id) => Some(id),
            None => {
                errors.add("after", "is not a cursor of this list");
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Page {
        first: first.unsigned_abs().into(),
        after,
    })
}

/// The connection of `page`: each item's cursor is its row's id.
pub fn connection<T, Node>(
    slice: Slice<T>,
    page: Page,
    mut node: impl FnMut(T) -> (Uuid, Node),
) -> Paged<Node>
where
    Node: OutputType + Clone,
    Edge<Node>: OutputType,
{
    let edges: Vec<Edge<Node>> = slice
        .items
        .into_iter()
        .map(|item| {
            let (id, node) = node(item);
            Edge {
                cursor: encode(id),
                node,
            }
        })
        .collect();
    Paged {
        nodes: edges.iter().map(|edge| edge.node.clone()).collect(),
        page_info: PageInfo {
            has_next_page: slice.has_next,
            has_previous_page: page.after.is_some(),
            start_cursor: edges.first().map(|edge| edge.cursor.clone()),
            end_cursor: edges.last().map(|edge| edge.cursor.clone()),
        },
        total_count: i64::try_from(slice.total).unwrap_or(i64::MAX),
        edges,
    }
}

fn encode(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode(cursor: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    Uuid::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let id = Uuid::new_v4();
        let page = page(Some(5), Some(encode(id))).unwrap();
        assert_eq!(page.after, Some(id));
        assert_eq!(page.first, 5);
        assert!(super::page(None, Some("not a cursor".into())).is_err());
        assert!(super::page(Some(0), None).is_err());
        assert!(super::page(Some(MAX_PAGE_SIZE + 1), None).is_err());
        assert_eq!(super::page(None, None).unwrap().first, 20);
    }
}
