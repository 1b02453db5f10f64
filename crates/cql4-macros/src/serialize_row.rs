//! `#[derive(SerializeRow)]`: a struct's fields bound to bind markers by name.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::DeriveInput;

use crate::attrs;

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let krate = attrs::struct_attrs(input, "SerializeRow", false)?.krate;
    let fields = attrs::fields(input, "SerializeRow")?;
    let ident = &input.ident;
    let mut generics = input.generics.clone();
    let where_clause = generics.make_where_clause();
    for f in &fields {
        let ty = f.ty;
        where_clause
            .predicates
            .push(syn::parse_quote!(#ty: #krate::value::ToCql));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();

    let bound: Vec<_> = (0..fields.len())
        .map(|i| format_ident!("__cql_bound{i}"))
        .collect();
    let arms = fields.iter().zip(&bound).map(|(f, b)| {
        let field = f.ident;
        let name = &f.name;
        quote! {
            #name => {
                #b = true;
                #krate::bind::write_marker(index, marker, &self.#field, w)?;
            }
        }
    });
    let count = fields.len();
    let named = fields.iter().enumerate().map(|(i, f)| {
        let field = f.ident;
        let name = &f.name;
        quote! {
            #krate::bind::write_named_natural(#i, #name, &self.#field, w)?;
        }
    });
    let unbound = fields.iter().zip(&bound).map(|(f, b)| {
        let name = &f.name;
        quote! {
            if !#b {
                return ::core::result::Result::Err(
                    #krate::EncodeError::NoSuchMarker(::std::string::String::from(#name)),
                );
            }
        }
    });

    Ok(quote! {
        impl #impl_generics #krate::bind::SerializeRow for #ident #ty_generics #where_clause {
            fn serialize_row(
                &self,
                markers: &[#krate::rows::ColumnSpec],
                w: &mut #krate::writer::Writer<'_>,
            ) -> ::core::result::Result<(), #krate::EncodeError> {
                #(let mut #bound = false;)*
                for (index, marker) in markers.iter().enumerate() {
                    match marker.name.as_str() {
                        #(#arms)*
                        _ => {
                            return ::core::result::Result::Err(
                                #krate::bind::missing_value(index, marker),
                            )
                        }
                    }
                }
                #(#unbound)*
                ::core::result::Result::Ok(())
            }

            fn serialize_unprepared(
                &self,
                w: &mut #krate::writer::Writer<'_>,
            ) -> ::core::result::Result<usize, #krate::EncodeError> {
                #(#named)*
                ::core::result::Result::Ok(#count)
            }

            fn is_named(&self) -> bool {
                true
            }
        }
    })
}
