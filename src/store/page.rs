//! Keyset pagination, newest first, for any table with `created_at` and a
//! UUID `id`: a page starts after the row its cursor names, so rows added
//! meanwhile neither shift nor repeat what a client already has.

use sea_orm::Condition;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use uuid::Uuid;

use crate::domain::{Page, Slice};

/// Reads `page` of `select` (already filtered), newest first by
/// `(created_at, id)`, and counts every row `select` matches. `table` is the
/// table's name, for the cursor's look-up.
pub async fn read<E, C>(
    db: &C,
    select: Select<E>,
    table: &'static str,
    page: Page,
) -> Result<Slice<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    use sea_orm::PaginatorTrait;
    let total = select.clone().count(db).await?;
    let mut rows = select;
    if let Some(after) = page.after {
        rows = rows.filter(after_row(table, after));
    }
    let mut items = rows
        .order_by_desc(Expr::col((table, "created_at")))
        .order_by_desc(Expr::col((table, "id")))
        .limit(page.first + 1)
        .all(db)
        .await?;
    let has_next = items.len() as u64 > page.first;
    items.truncate(page.first as usize);
    Ok(Slice {
        items,
        has_next,
        total,
    })
}

/// Rows older than the cursor's row (by time, then id). A cursor whose row
/// is gone matches nothing: the comparison with NULL is never true.
fn after_row(table: &'static str, after: Uuid) -> Condition {
    let cursor_time = || {
        Expr::SubQuery(
            None,
            Box::new(
                Query::select()
                    .column(("cursor", "created_at"))
                    .from_as(table, "cursor")
                    .and_where(Expr::col(("cursor", "id")).eq(after))
                    .to_owned()
                    .into(),
            ),
        )
    };
    Condition::any()
        .add(Expr::col((table, "created_at")).lt(cursor_time()))
        .add(
            Condition::all()
                .add(Expr::col((table, "created_at")).eq(cursor_time()))
                .add(Expr::col((table, "id")).lt(after)),
        )
}
