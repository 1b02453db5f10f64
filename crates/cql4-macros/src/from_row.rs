//! `#[derive(FromRow)]`: a struct read from a row by column name, or by position with
//! `#[cql(by_position)]`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{DeriveInput, Ident, ImplGenerics, Lifetime, Path, TypeGenerics, WhereClause};

use crate::attrs;

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let attrs = attrs::struct_attrs(input, "FromRow", true)?;
    let krate = &attrs.krate;
    let fields = attrs::fields(input, "FromRow")?;
    let ident = &input.ident;
    let (_, ty_generics, _) = input.generics.split_for_impl();

    let (impl_generics, row_lifetime) =
        attrs::borrowing_generics(input, &fields, krate, "'__cql_row");
    let (impl_generics, _, where_clause) = impl_generics.split_for_impl();

    let n = fields.len();
    let columns: Vec<_> = (0..n).map(|i| format_ident!("__cql_col{i}")).collect();
    if attrs.by_position {
        return Ok(by_position(
            krate,
            &fields,
            ident,
            &row_lifetime,
            &impl_generics,
            &ty_generics,
            where_clause,
        ));
    }
    let checks = fields.iter().map(|f| {
        let ty = f.ty;
        let name = &f.name;
        quote!(#krate::rows::column_by_name::<#ty>(columns, #name)?)
    });
    let reads = fields.iter().zip(&columns).map(|(f, c)| {
        let field = f.ident;
        quote!(#field: row.decode_cell(#c)?)
    });

    Ok(quote! {
        impl #impl_generics #krate::rows::FromRow<#row_lifetime> for #ident #ty_generics
            #where_clause
        {
            type Columns = [usize; #n];

            fn check_columns(
                columns: &[#krate::rows::ColumnSpec],
            ) -> #krate::DecodeResult<[usize; #n]> {
                ::core::result::Result::Ok([#(#checks),*])
            }

            #[inline]
            fn from_row(
                columns: &[usize; #n],
                row: &#krate::rows::Row<#row_lifetime>,
            ) -> #krate::DecodeResult<Self> {
                let [#(#columns),*] = *columns;
                ::core::result::Result::Ok(Self { #(#reads),* })
            }
        }
    })
}

/// The impl for `#[cql(by_position)]`: field `i` from column `i`, the column count and each
/// column's type checked once per page as a tuple's are.
fn by_position(
    krate: &Path,
    fields: &[attrs::Field<'_>],
    ident: &Ident,
    row_lifetime: &Lifetime,
    impl_generics: &ImplGenerics<'_>,
    ty_generics: &TypeGenerics<'_>,
    where_clause: Option<&WhereClause>,
) -> TokenStream {
    let n = fields.len();
    let columns: Vec<_> = (0..n).map(|i| format_ident!("__cql_col{i}")).collect();
    let checks = fields.iter().zip(&columns).map(|(f, c)| {
        let ty = f.ty;
        quote!(#krate::rows::check_column::<#ty>(#c)?;)
    });
    let reads = fields.iter().enumerate().map(|(i, f)| {
        let field = f.ident;
        quote!(#field: row.decode_cell(#i)?)
    });
    quote! {
        impl #impl_generics #krate::rows::FromRow<#row_lifetime> for #ident #ty_generics
            #where_clause
        {
            type Columns = ();

            fn check_columns(
                columns: &[#krate::rows::ColumnSpec],
            ) -> #krate::DecodeResult<()> {
                let [#(#columns),*] = columns else {
                    return #krate::rows::expect_columns(columns, #n);
                };
                #(#checks)*
                ::core::result::Result::Ok(())
            }

            #[inline]
            fn from_row(
                (): &(),
                row: &#krate::rows::Row<#row_lifetime>,
            ) -> #krate::DecodeResult<Self> {
                ::core::result::Result::Ok(Self { #(#reads),* })
            }
        }
    }
}
