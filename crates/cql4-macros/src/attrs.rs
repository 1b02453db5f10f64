//! The `#[cql(…)]` attributes: `crate = "path"` on the struct, `rename = "name"` on a field.

use syn::{Data, DeriveInput, Fields, Ident, LitStr, Path, Type};

/// One named field and the column or marker name it maps to.
pub(crate) struct Field<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    pub(crate) name: String,
}

/// The struct's `#[cql(crate = "…")]` path, `::cql4_frame` by default.
pub(crate) fn crate_path(input: &DeriveInput) -> syn::Result<Path> {
    let mut path: Path = syn::parse_quote!(::cql4_frame);
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("cql")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                path = meta.value()?.parse::<LitStr>()?.parse()?;
                Ok(())
            } else {
                Err(meta.error("unknown cql attribute on a struct (expected `crate = \"path\"`)"))
            }
        })?;
    }
    Ok(path)
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
