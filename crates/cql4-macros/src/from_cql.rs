//! `#[derive(FromCql)]`: a struct read from a CQL user-defined type value by field name.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::DeriveInput;

use crate::attrs;

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let krate = attrs::struct_attrs(input, "FromCql", false)?.krate;
    let fields = attrs::fields(input, "FromCql")?;
    let ident = &input.ident;
    let rust = ident.to_string();
    let (_, ty_generics, _) = input.generics.split_for_impl();

    let (impl_generics, lifetime) =
        attrs::borrowing_generics(input, &fields, &krate, "'__cql_value");
    let (impl_generics, _, where_clause) = impl_generics.split_for_impl();

    let slots: Vec<_> = (0..fields.len())
        .map(|i| format_ident!("__cql_field{i}"))
        .collect();
    let checks = fields.iter().map(|f| {
        let ty = f.ty;
        let name = &f.name;
        quote!(#krate::value::udt::check_field::<#ty>(ty, udt, #name)?;)
    });
    let decls = fields.iter().zip(&slots).map(|(f, s)| {
        let ty = f.ty;
        quote!(let mut #s: ::core::option::Option<#ty> = ::core::option::Option::None;)
    });
    let arms = fields.iter().zip(&slots).map(|(f, s)| {
        let name = &f.name;
        quote!(#name => #s = ::core::option::Option::Some(field.read()?),)
    });
    let inits = fields.iter().zip(&slots).map(|(f, s)| {
        let field = f.ident;
        let name = &f.name;
        quote! {
            #field: match #s {
                ::core::option::Option::Some(v) => v,
                ::core::option::Option::None => fields.absent(#name)?,
            }
        }
    });

    Ok(quote! {
        impl #impl_generics #krate::value::FromCql<#lifetime> for #ident #ty_generics
            #where_clause
        {
            fn type_check(
                ty: &#krate::types::ColumnType,
            ) -> ::core::result::Result<(), #krate::DecodeErrorKind> {
                let udt = #krate::value::udt::udt_type(ty, #rust)?;
                #(#checks)*
                ::core::result::Result::Ok(())
            }

            fn from_cql(
                ty: &#lifetime #krate::types::ColumnType,
                raw: ::core::option::Option<&#lifetime [u8]>,
            ) -> #krate::DecodeResult<Self> {
                let mut fields = #krate::value::udt::UdtFields::new(ty, raw, #rust)?;
                #(#decls)*
                while let ::core::option::Option::Some(field) = fields.next_field()? {
                    match field.name() {
                        #(#arms)*
                        // A field added to the UDT after this struct was written.
                        _ => {}
                    }
                }
                ::core::result::Result::Ok(Self { #(#inits),* })
            }
        }
    })
}
