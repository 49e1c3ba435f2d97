/// The role every new account gets, and every account keeps.
pub const DEFAULT_ROLE: &str = "user";
/// The role that may use the admin API.
pub const ADMIN_ROLE: &str = "admin";

/// A user's set of roles: names of 1 to 64 characters from `a-z 0-9 _ - : .`,
/// without duplicates, always including [`DEFAULT_ROLE`], at most 32.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roles(Vec<String>);

impl Roles {
    pub const MAX_ROLES: usize = 32;
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &[String]) -> Result<Self, String> {
        let mut roles = vec![DEFAULT_ROLE.to_owned()];
        for role in raw {
            let role = role.trim();
            let valid = !role.is_empty()
                && role.len() <= Self::MAX_CHARS
                && role
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-:.".contains(&b));
            if !valid {
                return Err(format!(
                    "{role:?} is not a role name (1 to 64 of a-z, 0-9, _ - : .)"
                ));
            }
            if !roles.iter().any(|r| r == role) {
                roles.push(role.to_owned());
            }
        }
        if roles.len() > Self::MAX_ROLES {
            return Err(format!("at most {} roles", Self::MAX_ROLES));
        }
        Ok(Self(roles))
    }

    pub fn contains(&self, role: &str) -> bool {
        self.0.iter().any(|r| r == role)
    }

    pub fn into_vec(self) -> Vec<String> {
        self.0
    }
}

/// A new account's roles: [`DEFAULT_ROLE`] alone.
impl Default for Roles {
    fn default() -> Self {
        Self(vec![DEFAULT_ROLE.to_owned()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[&str]) -> Result<Roles, String> {
        Roles::parse(&raw.iter().map(|r| (*r).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn every_set_keeps_the_user_role_once() {
        assert_eq!(parse(&[]).unwrap().into_vec(), ["user"]);
        assert_eq!(
            parse(&["admin", " user", "admin", "billing:read"])
                .unwrap()
                .into_vec(),
            ["user", "admin", "billing:read"]
        );
    }

    #[test]
    fn malformed_names_are_refused() {
        for bad in ["", "Admin", "has space", "ümlaut", &"x".repeat(65)] {
            assert!(parse(&[bad]).is_err(), "{bad:?}");
        }
        let many: Vec<String> = (0..40).map(|i| format!("r{i}")).collect();
        assert!(Roles::parse(&many).is_err());
    }
}
