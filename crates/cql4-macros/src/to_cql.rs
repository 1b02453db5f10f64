//! `#[derive(ToCql)]`: a struct written as a CQL user-defined type value by field name.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::attrs;

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let krate = attrs::struct_attrs(input, "ToCql", false)?.krate;
    let fields = attrs::fields(input, "ToCql")?;
    let ident = &input.ident;
    let rust = ident.to_string();
    let mut generics = input.generics.clone();
    let where_clause = generics.make_where_clause();
    for f in &fields {
        let ty = f.ty;
        where_clause
            .predicates
            .push(syn::parse_quote!(#ty: #krate::value::ToCql));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();

    let names = fields.iter().map(|f| &f.name);
    let natural = fields.iter().map(|f| {
        let field = f.ident;
        let name = &f.name;
        quote! { (#name, #krate::value::ToCql::natural_type(&self.#field)) }
    });
    let arms = fields.iter().map(|f| {
        let field = f.ident;
        let name = &f.name;
        quote! {
            #name => #krate::value::udt::write_field(udt, name, field_ty, &self.#field, w)?,
        }
    });

    Ok(quote! {
        impl #impl_generics #krate::value::ToCql for #ident #ty_generics #where_clause {
            fn to_cql(
                &self,
                ty: &#krate::types::ColumnType,
                w: &mut #krate::writer::Writer<'_>,
            ) -> ::core::result::Result<#krate::value::IsNull, #krate::EncodeError> {
                let (udt, count) =
                    #krate::value::udt::fields_to_write(ty, #rust, &[#(#names),*])?;
                for (name, field_ty) in udt.fields.iter().take(count) {
                    match name.as_str() {
                        #(#arms)*
                        // A declared field the struct does not have, before one it has.
                        _ => #krate::value::udt::write_null_field(w),
                    }
                }
                ::core::result::Result::Ok(#krate::value::IsNull::No)
            }

            fn natural_type(&self) -> ::core::option::Option<#krate::types::ColumnType> {
                ::core::option::Option::Some(#krate::value::udt::natural_udt(#rust, &[#(#natural),*]))
            }
        }
    })
}
