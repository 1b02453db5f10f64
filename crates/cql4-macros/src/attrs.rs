//! The `#[cql(…)]` attributes: `crate = "path"` and `by_position` on the struct,
//! `rename = "name"` on a field.

use proc_macro2::Span;
use syn::{
    Data, DeriveInput, Fields, GenericParam, Generics, Ident, Lifetime, LifetimeParam, LitStr,
    Path, Type,
};

/// One named field and the column or marker name it maps to.
pub(crate) struct Field<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    pub(crate) name: String,
}

/// The struct's `#[cql(…)]` attributes.
pub(crate) struct StructAttrs {
    /// `crate = "path"`: where the generated code finds the codec, `::cql4_frame` by default.
    pub(crate) krate: Path,
    /// `by_position`: fields map to columns in order, not by name (`FromRow` only).
    pub(crate) by_position: bool,
}

/// Where the generated code finds the codec, read from the `Cargo.toml` of the crate being
/// compiled: `::cql4_frame` if it depends on `cql4-frame`, else `::cql4::frame` through the
/// facade, else `::cql4_conn::frame` (each under the name the crate gives the dependency, so
/// a renamed one is found too). `#[cql(crate = "…")]` overrides it, e.g. in a crate that
/// reaches the codec through a re-export of its own.
fn codec_path() -> Path {
    use proc_macro_crate::{crate_name, FoundCrate};
    // A crate's own integration tests, examples and benches name it as a dependency
    // (`::cql4_frame`); its library would need `extern crate self as cql4_frame;`.
    let name = |package: &str| match crate_name(package) {
        Ok(FoundCrate::Name(name)) => Some(name),
        Ok(FoundCrate::Itself) => Some(package.replace('-', "_")),
        Err(_) => None,
    };
    let path = if let Some(frame) = name("cql4-frame") {
        format!("::{frame}")
    } else if let Some(facade) = name("cql4") {
        format!("::{facade}::frame")
    } else if let Some(conn) = name("cql4-conn") {
        format!("::{conn}::frame")
    } else {
        // Not found (e.g. no Cargo.toml to read): the name the codec is published under.
        "::cql4_frame".to_owned()
    };
    syn::parse_str(&path).unwrap_or_else(|_| syn::parse_quote!(::cql4_frame))
}

/// The struct's `#[cql(…)]` attributes; `by_position` is refused unless `derive` allows it.
pub(crate) fn struct_attrs(
    input: &DeriveInput,
    derive: &str,
    allow_by_position: bool,
) -> syn::Result<StructAttrs> {
    let mut attrs = StructAttrs {
        krate: codec_path(),
        by_position: false,
    };
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("cql")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                attrs.krate = meta.value()?.parse::<LitStr>()?.parse()?;
                Ok(())
            } else if meta.path.is_ident("by_position") {
                if allow_by_position {
                    attrs.by_position = true;
                    Ok(())
                } else {
                    Err(meta.error(format!(
                        "#[derive({derive})] maps fields by name: `by_position` is for FromRow"
                    )))
                }
            } else {
                Err(meta.error(
                    "unknown cql attribute on a struct (expected `crate = \"path\"` or `by_position`)",
                ))
            }
        })?;
    }
    Ok(attrs)
}

/// The struct's named fields with their names, or an error for anything else.
pub(crate) fn fields<'a>(input: &'a DeriveInput, derive: &str) -> syn::Result<Vec<Field<'a>>> {
    let named = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => named,
            _ => {
                return Err(syn::Error::new_spanned(
                    &input.ident,
                    format!("#[derive({derive})] needs a struct with named fields"),
                ))
            }
        },
        _ => {
            return Err(syn::Error::new_spanned(
                &input.ident,
                format!("#[derive({derive})] works on structs only"),
            ))
        }
    };
    let mut out = Vec::with_capacity(named.named.len());
    for field in &named.named {
        let Some(ident) = field.ident.as_ref() else {
            continue;
        };
        let raw = ident.to_string();
        let mut name = raw.strip_prefix("r#").unwrap_or(&raw).to_owned();
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("cql")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    name = meta.value()?.parse::<LitStr>()?.value();
                    Ok(())
                } else {
                    Err(meta
                        .error("unknown cql attribute on a field (expected `rename = \"name\"`)"))
                }
            })?;
        }
        if let Some(other) = out.iter().find(|f: &&Field<'_>| f.name == name) {
            return Err(syn::Error::new_spanned(
                ident,
                format!(
                    "fields `{}` and `{ident}` both map to `{name}`",
                    other.ident
                ),
            ));
        }
        out.push(Field {
            ident,
            ty: &field.ty,
            name,
        });
    }
    Ok(out)
}

/// The derives' error messages are checked by tests/compile_fail.rs (trybuild).
/// The generics of a `FromCql`/`FromRow` impl that reads borrowing from the input: the struct's
/// own first lifetime (so `&'a str` fields borrow from the page), or a fresh `fresh` one for a
/// struct that borrows nothing; every field's type bound by `FromCql` of that lifetime.
pub(crate) fn borrowing_generics(
    input: &DeriveInput,
    fields: &[Field<'_>],
    krate: &Path,
    fresh: &str,
) -> (Generics, Lifetime) {
    let mut generics = input.generics.clone();
    let lifetime = match input.generics.lifetimes().next() {
        Some(l) => l.lifetime.clone(),
        None => {
            let l = Lifetime::new(fresh, Span::call_site());
            generics
                .params
                .insert(0, GenericParam::Lifetime(LifetimeParam::new(l.clone())));
            l
        }
    };
    let where_clause = generics.make_where_clause();
    for f in fields {
        let ty = f.ty;
        where_clause
            .predicates
            .push(syn::parse_quote!(#ty: #krate::value::FromCql<#lifetime>));
    }
    (generics, lifetime)
}

#[cfg(test)]
mod tests {
    use syn::{parse_quote, DeriveInput};

    #[test]
    fn raw_identifiers_map_to_their_plain_name() {
        let s: DeriveInput = parse_quote!(
            struct S {
                r#type: i32,
            }
        );
        let fields = super::fields(&s, "FromRow").expect("fields");
        assert_eq!(fields[0].name, "type");
    }
}
