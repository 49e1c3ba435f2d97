//! Recovery beats a pending address change: someone who once had the
//! password asks `changeEmail` to their own address; whatever the owner then
//! does to take the account back (change or reset the password, sign out
//! everywhere, have an admin end the sessions or disable the account), the
//! link no longer moves the address.

use entity::user;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::admin::signed_in_with_roles;
use crate::helpers::{PASSWORD, TestApp, Tokens, spawn_app_with};
use crate::mailbox::{
    NEW_PASSWORD, change_email, fresh_email, me, request_reset, reset, sign_up, through, verify,
};
use crate::smtp::SmtpSink;

/// What the owner does after the thief asked to move the address.
#[derive(Clone, Copy, Debug)]
enum Recovery {
    ChangePassword,
    ResetPassword,
    LogoutEverywhere,
    AdminEndsSessions,
    AdminDisables,
}

/// The thief's attempt against a fresh account, the owner's `recovery`, and
/// what the thief's link then does.
async fn takeover_after(app: &TestApp, sink: &SmtpSink, admin: &Tokens, recovery: Recovery) {
    let owner_email = fresh_email();
    let owner = sign_up(app, &owner_email).await;
    // The thief knows the password (a reused one, a shoulder-surf …).
    let thief = Tokens::from_payload(app.login(&owner_email, PASSWORD).await.ok("login"));
    let thief_email = fresh_email();
    change_email(app, &thief.access, &thief_email, PASSWORD)
        .await
        .ok("changeEmail");
    let link = sink
        .mail_to(&thief_email, "Confirm your new e-mail address")
        .await
        .token();
    sink.mail_to(&owner_email, "is being changed").await;

    let admin_does = |mutation: &'static str| {
        let id = owner.user_id.clone();
        async move {
            app.graphql(mutation, json!({ "id": id }), Some(&admin.access))
                .await
        }
    };
    let password = match recovery {
        Recovery::ChangePassword => {
            app.change_password(&owner.access, PASSWORD, NEW_PASSWORD)
                .await
                .ok("changePassword");
            NEW_PASSWORD
        }
        Recovery::ResetPassword => {
            request_reset(app, &owner_email)
                .await
                .ok("requestPasswordReset");
            let token = sink.mail_to(&owner_email, "Reset").await.token();
            reset(app, &token, NEW_PASSWORD).await.ok("resetPassword");
            NEW_PASSWORD
        }
        Recovery::LogoutEverywhere => {
            app.logout_scope(Some(&owner.access), "GLOBAL")
                .await
                .ok("logout");
            PASSWORD
        }
        Recovery::AdminEndsSessions => {
            admin_does("mutation($id: ID!) { revokeUserSessions(id: $id) }")
                .await
                .ok("revokeUserSessions");
            PASSWORD
        }
        Recovery::AdminDisables => {
            admin_does("mutation($id: ID!) { disableUser(id: $id) { id } }")
                .await
                .ok("disableUser");
            let refused = verify(app, &link).await;
            assert_eq!(refused.code(), Some("INVALID_TOKEN"), "{recovery:?}");
            // Enabled again, the account's old links stay dead.
            admin_does("mutation($id: ID!) { enableUser(id: $id) { id } }")
                .await
                .ok("enableUser");
            PASSWORD
        }
    };

    let refused = verify(app, &link).await;
    assert_eq!(
        refused.code(),
        Some("INVALID_TOKEN"),
        "{recovery:?}: {}",
        refused.body
    );
    // The address is still the owner's: it signs in, the thief's does not.
    let back = Tokens::from_payload(app.login(&owner_email, password).await.ok("login"));
    assert_eq!(me(app, &back.access).await["email"], owner_email.as_str());
    assert_eq!(
        app.login(&thief_email, password).await.code(),
        Some("INVALID_CREDENTIALS"),
        "{recovery:?}"
    );
}

async fn a_pending_address_change_dies_with_every_recovery_step() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(|s| {
        through(&sink)(s);
        // Every step below mails; the sending limits are not under test.
        s.mail.limits.per_ip_per_hour = 1000;
    })
    .await;
    let admin = signed_in_with_roles(&app, &fresh_email(), &["user", "admin"]).await;
    for recovery in [
        Recovery::ChangePassword,
        Recovery::ResetPassword,
        Recovery::LogoutEverywhere,
        Recovery::AdminEndsSessions,
        Recovery::AdminDisables,
    ] {
        takeover_after(&app, &sink, &admin, recovery).await;
    }
}

async fn a_link_issued_before_a_concurrent_recovery_is_refused() {
    // A link stored under the account's old credential version (the
    // recovery committed between reading the account and issuing the link)
    // is refused although it was never marked used.
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(through(&sink)).await;
    let owner_email = fresh_email();
    let owner = sign_up(&app, &owner_email).await;
    let new_email = fresh_email();
    change_email(&app, &owner.access, &new_email, PASSWORD)
        .await
        .ok("changeEmail");
    let link = sink
        .mail_to(&new_email, "Confirm your new e-mail address")
        .await
        .token();
    user::Entity::update_many()
        .col_expr(
            user::Column::CredentialVersion,
            Expr::col(user::Column::CredentialVersion).add(1),
        )
        .filter(user::Column::Email.eq(owner_email.as_str()))
        .exec(&app.db)
        .await
        .expect("the version moves on");
    assert_eq!(verify(&app, &link).await.code(), Some("INVALID_TOKEN"));
    assert_eq!(me(&app, &owner.access).await["email"], owner_email.as_str());
}

/// `changePassword` back and forth `times` times.
async fn alternate_passwords(app: &TestApp, access: &str, times: usize) {
    for i in 0..times {
        let (from, to) = if i % 2 == 0 {
            (PASSWORD, NEW_PASSWORD)
        } else {
            (NEW_PASSWORD, PASSWORD)
        };
        app.change_password(access, from, to)
            .await
            .ok("changePassword");
    }
}

async fn notices_are_coalesced_and_an_unproven_address_gets_only_the_first() {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(through(&sink)).await;
    let settle = std::time::Duration::from_millis(700);
    // An address nobody proved (anyone can register a stranger's).
    let stranger = fresh_email();
    let unproven = sign_up(&app, &stranger).await;
    alternate_passwords(&app, &unproven.access, 6).await;
    assert_eq!(
        sink.count_after(settle, &stranger, "password was changed")
            .await,
        1
    );
    // A verified address: one per 15 minutes however many changes.
    let owner_email = fresh_email();
    let owner = sign_up(&app, &owner_email).await;
    let link = sink
        .mail_to(&owner_email, "Confirm your e-mail address")
        .await
        .token();
    verify(&app, &link).await.ok("verifyEmail");
    alternate_passwords(&app, &owner.access, 6).await;
    assert_eq!(
        sink.count_after(settle, &owner_email, "password was changed")
            .await,
        1
    );
    // A quarter of an hour later the verified address hears again; the
    // unproven one does not.
    entity::outbox_mail::Entity::update_many()
        .col_expr(
            entity::outbox_mail::Column::CreatedAt,
            Expr::value(chrono::Utc::now() - chrono::TimeDelta::minutes(16)),
        )
        .exec(&app.db)
        .await
        .expect("the outbox is writable");
    alternate_passwords(&app, &owner.access, 2).await;
    alternate_passwords(&app, &unproven.access, 2).await;
    assert_eq!(
        sink.count_after(settle, &owner_email, "password was changed")
            .await,
        2
    );
    assert_eq!(
        sink.count_after(settle, &stranger, "password was changed")
            .await,
        1
    );
}

crate::on_every_backend!(
    notices_are_coalesced_and_an_unproven_address_gets_only_the_first,
    a_pending_address_change_dies_with_every_recovery_step,
    a_link_issued_before_a_concurrent_recovery_is_refused,
);
