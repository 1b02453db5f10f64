//! Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.

use std::sync::Arc;

use super::{Credentials, CredentialsProvider};
use crate::env::{Env, ProcessEnv};
use crate::error::{CredentialSource, CredentialsError, CredentialsErrorKind};
use crate::sasl::BoxFuture;

/// Reads the three standard variables. Neither key set: "not configured" (a chain moves on);
/// only one of the two set: an error naming the missing variable.
#[derive(Clone, Debug)]
pub struct EnvironmentProvider {
    env: Arc<dyn Env>,
}

impl Default for EnvironmentProvider {
    fn default() -> Self {
        Self::new(Arc::new(ProcessEnv))
    }
}

impl EnvironmentProvider {
    /// Reads variables from `env`.
    pub fn new(env: Arc<dyn Env>) -> Self {
        Self { env }
    }

    /// Loads the credentials.
    pub fn load(&self) -> Result<Credentials, CredentialsError> {
        let key = self.env.var("AWS_ACCESS_KEY_ID");
        let secret = self.env.var("AWS_SECRET_ACCESS_KEY");
        let token = self.env.var("AWS_SESSION_TOKEN");
        match (key, secret) {
            (Some(key), Some(secret)) => {
                Ok(Credentials::new(key, secret, token.map(Into::into), None))
            }
            (None, None) => Err(CredentialsError::not_configured(
                CredentialSource::Environment,
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are unset",
            )),
            (Some(_), None) => Err(CredentialsError::new(
                CredentialSource::Environment,
                CredentialsErrorKind::Invalid(
                    "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not".to_owned(),
                ),
            )),
            (None, Some(_)) => Err(CredentialsError::new(
                CredentialSource::Environment,
                CredentialsErrorKind::Invalid(
                    "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not".to_owned(),
                ),
            )),
        }
    }
}

impl CredentialsProvider for EnvironmentProvider {
    fn provide_credentials(&self) -> BoxFuture<'_, Result<Credentials, CredentialsError>> {
        Box::pin(std::future::ready(self.load()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::MapEnv;

    fn load(env: MapEnv) -> Result<Credentials, CredentialsError> {
        EnvironmentProvider::new(Arc::new(env)).load()
    }

    #[test]
    fn reads_the_three_variables() {
        let c = load(
            MapEnv::new()
                .with_var("AWS_ACCESS_KEY_ID", "AK")
                .with_var("AWS_SECRET_ACCESS_KEY", "SK")
                .with_var("AWS_SESSION_TOKEN", "TK"),
        )
        .unwrap();
        assert_eq!(c.access_key_id(), "AK");
        assert_eq!(c.secret_access_key().expose(), "SK");
        assert_eq!(c.session_token().unwrap().expose(), "TK");
    }

    #[test]
    fn unset_or_half_set() {
        let e = load(MapEnv::new()).unwrap_err();
        assert!(!e.is_fatal());
        let e = load(MapEnv::new().with_var("AWS_ACCESS_KEY_ID", "AK")).unwrap_err();
        assert!(e.is_fatal());
        assert!(
            e.to_string().contains("AWS_SECRET_ACCESS_KEY is not"),
            "{e}"
        );
        let e = load(MapEnv::new().with_var("AWS_SECRET_ACCESS_KEY", "SHHH")).unwrap_err();
        assert!(e.is_fatal() && !e.to_string().contains("SHHH"), "{e}");
        // Empty counts as unset.
        let e = load(
            MapEnv::new()
                .with_var("AWS_ACCESS_KEY_ID", "")
                .with_var("AWS_SECRET_ACCESS_KEY", ""),
        )
        .unwrap_err();
        assert!(!e.is_fatal());
    }
}
