//! The AWS region, resolved as the SDKs do: explicit, else `AWS_REGION`, else
//! `AWS_DEFAULT_REGION`, else the profile's `region` in the shared files.

use crate::credentials::profile::{selected_profile, SharedFiles};
use crate::env::Env;
use crate::error::RegionError;
use crate::io::FileReader;

/// Resolves the region. `profile` overrides `AWS_PROFILE` (else `default`) for the last step,
/// whose shared config file is read through `files` (so the call never blocks when polled;
/// `cql4_conn::file_reader::TokioFileReader` reads the real files). Empty values count as unset.
/// A malformed shared file is an error only when it is reached.
pub async fn resolve_region(
    explicit: Option<&str>,
    env: &dyn Env,
    files: &dyn FileReader,
    profile: Option<&str>,
) -> Result<String, RegionError> {
    if let Some(r) = explicit.map(str::trim).filter(|r| !r.is_empty()) {
        return Ok(r.to_owned());
    }
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Some(r) = env.var(var) {
            tracing::debug!(source = var, region = %r, "AWS region");
            return Ok(r);
        }
    }
    let (name, _) = selected_profile(env, profile);
    let files = SharedFiles::load(env, files)
        .await
        .map_err(RegionError::File)?;
    match files.profile(&name).as_ref().and_then(|p| p.get("region")) {
        Some(r) => {
            tracing::debug!(profile = %name, region = r.expose(), "AWS region from profile");
            Ok(r.expose().to_owned())
        }
        None => Err(RegionError::NotFound { profile: name }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::now_or_never;
    use crate::env::MapEnv;

    fn resolve(
        explicit: Option<&str>,
        env: &MapEnv,
        profile: Option<&str>,
    ) -> Result<String, RegionError> {
        now_or_never(resolve_region(explicit, env, env, profile)).unwrap()
    }

    fn env() -> MapEnv {
        MapEnv::new().with_home("/h").with_file(
            "/h/.aws/config",
            "[default]\nregion = us-east-1\n[profile p]\nregion = eu-west-1\n",
        )
    }

    #[test]
    fn order() {
        let e = env()
            .with_var("AWS_REGION", "r1")
            .with_var("AWS_DEFAULT_REGION", "r2");
        assert_eq!(resolve(Some("x"), &e, None).unwrap(), "x");
        assert_eq!(resolve(Some(""), &e, None).unwrap(), "r1");
        assert_eq!(resolve(None, &e, None).unwrap(), "r1");
        let e = env().with_var("AWS_DEFAULT_REGION", "r2");
        assert_eq!(resolve(None, &e, None).unwrap(), "r2");
        assert_eq!(resolve(None, &env(), None).unwrap(), "us-east-1");
        assert_eq!(resolve(None, &env(), Some("p")).unwrap(), "eu-west-1");
        let e = env().with_var("AWS_PROFILE", "p");
        assert_eq!(resolve(None, &e, None).unwrap(), "eu-west-1");
    }

    #[test]
    fn none_found_names_all_four() {
        let e = resolve(None, &MapEnv::new().with_home("/h"), None).unwrap_err();
        assert_eq!(
            e,
            RegionError::NotFound {
                profile: "default".into()
            }
        );
        let e = resolve(None, &env(), Some("missing")).unwrap_err();
        assert!(e.to_string().contains("profile `missing`"), "{e}");
    }

    #[test]
    fn malformed_config_is_reported() {
        let e = MapEnv::new()
            .with_home("/h")
            .with_file("/h/.aws/config", "region = x\n");
        let err = resolve(None, &e, None).unwrap_err();
        assert!(err.to_string().contains("malformed line 1"), "{err}");
    }
}
