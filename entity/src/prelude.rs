pub use super::auth_event::Entity as AuthEvent;
pub use super::login_throttle::Entity as LoginThrottle;
pub use super::refresh_token::Entity as RefreshToken;
pub use super::revocation::Entity as Revocation;
pub use super::session::Entity as Session;
pub use super::signing_key::Entity as SigningKey;
pub use super::user::Entity as User;
