//! The pruned official Admin API schema, parsed once and turned into two things: an
//! async-graphql dynamic schema (which parses and validates every request) and a small type
//! table used for query cost and abstract-type resolution.

use std::collections::{HashMap, HashSet};

use async_graphql::dynamic::{
    Enum, Field, FieldFuture, InputObject, InputValue, Interface, InterfaceField, Object, Scalar,
    Schema, TypeRef, Union,
};
use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};

use crate::error::DevStoreError;
use crate::resolve::{self, FieldMeta};

/// The SDL the dev store serves; the service generates its client types from the same file.
pub const ADMIN_SDL: &str = include_str!("../../../schema/admin-2026-04.graphql");

/// The Admin API version in the endpoint path.
pub const API_VERSION: &str = "2026-04";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Scalar,
    Enum,
    Object,
    Interface,
    Union,
    InputObject,
}

#[derive(Debug, Clone)]
pub struct FieldInfo {
    pub type_name: String,
    pub list: bool,
}

#[derive(Debug, Clone)]
pub struct TypeInfo {
    pub kind: Kind,
    pub fields: HashMap<String, FieldInfo>,
}

/// What the cost calculator and the resolvers need to know about the schema.
#[derive(Debug, Default)]
pub struct SchemaInfo {
    pub types: HashMap<String, TypeInfo>,
}

impl SchemaInfo {
    pub fn field(&self, type_name: &str, field: &str) -> Option<&FieldInfo> {
        self.types.get(type_name)?.fields.get(field)
    }

    pub fn kind(&self, type_name: &str) -> Option<Kind> {
        match type_name {
            "String" | "Int" | "Float" | "Boolean" | "ID" => Some(Kind::Scalar),
            _ => self.types.get(type_name).map(|t| t.kind),
        }
    }
}

fn base_name(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => base_name(inner),
    }
}

fn is_list(ty: &Type) -> bool {
    matches!(ty.base, BaseType::List(_))
}

fn type_ref(ty: &Type) -> TypeRef {
    let inner = match &ty.base {
        BaseType::Named(name) => TypeRef::Named(name.to_string().into()),
        BaseType::List(inner) => TypeRef::List(Box::new(type_ref(inner))),
    };
    if ty.nullable {
        inner
    } else {
        TypeRef::NonNull(Box::new(inner))
    }
}

fn input_value(def: &async_graphql::parser::types::InputValueDefinition) -> InputValue {
    let mut value = InputValue::new(def.name.node.to_string(), type_ref(&def.ty.node));
    if let Some(default) = &def.default_value {
        value = value.default_value(default.node.clone());
    }
    value
}

/// Parses the SDL and builds the executable schema plus the type table.
pub fn build() -> Result<(Schema, SchemaInfo), DevStoreError> {
    let doc = async_graphql::parser::parse_schema(ADMIN_SDL)
        .map_err(|e| DevStoreError::Schema(format!("schema/admin-2026-04.graphql: {e}")))?;
    let mut info = SchemaInfo::default();
    let mut abstract_types = HashSet::new();
    for def in &doc.definitions {
        if let TypeSystemDefinition::Type(t) = def {
            let t = &t.node;
            let (kind, fields) = match &t.kind {
                TypeKind::Scalar => (Kind::Scalar, Vec::new()),
                TypeKind::Enum(_) => (Kind::Enum, Vec::new()),
                TypeKind::Object(o) => (Kind::Object, o.fields.iter().map(|f| &f.node).collect()),
                TypeKind::Interface(i) => {
                    abstract_types.insert(t.name.node.to_string());
                    (Kind::Interface, i.fields.iter().map(|f| &f.node).collect())
                }
                TypeKind::Union(_) => {
                    abstract_types.insert(t.name.node.to_string());
                    (Kind::Union, Vec::new())
                }
                TypeKind::InputObject(_) => (Kind::InputObject, Vec::new()),
            };
            let fields = fields
                .into_iter()
                .map(|f| {
                    (
                        f.name.node.to_string(),
                        FieldInfo {
                            type_name: base_name(&f.ty.node).to_string(),
                            list: is_list(&f.ty.node),
                        },
                    )
                })
                .collect();
            info.types
                .insert(t.name.node.to_string(), TypeInfo { kind, fields });
        }
    }

    let mut builder = Schema::build("QueryRoot", Some("Mutation"), None).disable_suggestions();
    for def in &doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let t = &t.node;
        let name = t.name.node.to_string();
        match &t.kind {
            TypeKind::Scalar => {
                builder = builder.register(Scalar::new(name));
            }
            TypeKind::Enum(e) => {
                builder = builder.register(
                    Enum::new(name).items(e.values.iter().map(|v| v.node.value.node.to_string())),
                );
            }
            TypeKind::Union(u) => {
                let mut union = Union::new(name);
                for member in &u.members {
                    union = union.possible_type(member.node.to_string());
                }
                builder = builder.register(union);
            }
            TypeKind::InputObject(i) => {
                let mut input = InputObject::new(name);
                for f in &i.fields {
                    input = input.field(input_value(&f.node));
                }
                if t.directives.iter().any(|d| d.node.name.node == "oneOf") {
                    input = input.oneof();
                }
                builder = builder.register(input);
            }
            TypeKind::Interface(i) => {
                let mut iface = Interface::new(name);
                for f in &i.fields {
                    let mut field = InterfaceField::new(
                        f.node.name.node.to_string(),
                        type_ref(&f.node.ty.node),
                    );
                    for a in &f.node.arguments {
                        field = field.argument(input_value(&a.node));
                    }
                    iface = iface.field(field);
                }
                builder = builder.register(iface);
            }
            TypeKind::Object(o) => {
                let mut object = Object::new(name.clone());
                for i in &o.implements {
                    object = object.implement(i.node.to_string());
                }
                for f in &o.fields {
                    let f = &f.node;
                    let return_type = base_name(&f.ty.node).to_string();
                    let meta = std::sync::Arc::new(FieldMeta {
                        parent_type: name.clone(),
                        field: f.name.node.to_string(),
                        abstract_return: abstract_types.contains(&return_type),
                        nullable: f.ty.node.nullable,
                        return_type,
                    });
                    let mut field =
                        Field::new(f.name.node.to_string(), type_ref(&f.ty.node), move |ctx| {
                            let meta = meta.clone();
                            FieldFuture::new(async move { resolve::field(ctx, &meta).await })
                        });
                    for a in &f.arguments {
                        field = field.argument(input_value(&a.node));
                    }
                    object = object.field(field);
                }
                builder = builder.register(object);
            }
        }
    }
    let schema = builder
        .finish()
        .map_err(|e| DevStoreError::Schema(e.to_string()))?;
    Ok((schema, info))
}
