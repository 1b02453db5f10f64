//! The AWS region, resolved as the SDKs do: explicit, else `AWS_REGION`, else
//! `AWS_DEFAULT_REGION`, else the profile's `region` in the shared files.

use crate::credentials::profile::{selected_profile, SharedFiles};
use crate::env::Env;
use crate::error::RegionError;

/// Resolves the region. `profile` overrides `AWS_PROFILE` (else `default`) for the last step.
/// Empty values count as unset. A malformed shared file is an error only when it is reached.
pub fn resolve_region(
    explicit: Option<&str>,
    env: &dyn Env,
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
    let files = SharedFiles::load(env).map_err(RegionError::File)?;
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
    use crate::env::MapEnv;

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
        assert_eq!(resolve_region(Some("x"), &e, None).unwrap(), "x");
        assert_eq!(resolve_region(Some(""), &e, None).unwrap(), "r1");
        assert_eq!(resolve_region(None, &e, None).unwrap(), "r1");
        let e = env().with_var("AWS_DEFAULT_REGION", "r2");
        assert_eq!(resolve_region(None, &e, None).unwrap(), "r2");
        assert_eq!(resolve_region(None, &env(), None).unwrap(), "us-east-1");
        assert_eq!(
            resolve_region(None, &env(), Some("p")).unwrap(),
            "eu-west-1"
        );
        let e = env().with_var("AWS_PROFILE", "p");
        assert_eq!(resolve_region(None, &e, None).unwrap(), "eu-west-1");
    }

    #[test]
    fn none_found_names_all_four() {
        let e = resolve_region(None, &MapEnv::new().with_home("/h"), None).unwrap_err();
        assert_eq!(
            e,
            RegionError::NotFound {
                profile: "default".into()
            }
        );
        let e = resolve_region(None, &env(), Some("missing")).unwrap_err();
        assert!(e.to_string().contains("profile `missing`"), "{e}");
    }

    #[test]
    fn malformed_config_is_reported() {
        let e = MapEnv::new()
            .with_home("/h")
            .with_file("/h/.aws/config", "region = x\n");
        let err = resolve_region(None, &e, None).unwrap_err();
        assert!(err.to_string().contains("malformed line 1"), "{err}");
    }
}
