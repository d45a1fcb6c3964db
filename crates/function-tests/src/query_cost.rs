//! An input query's size and calculated cost by Shopify's published rules
//! (https://shopify.dev/docs/api/functions/latest#limitations):
//! at most 3000 bytes excluding comments, and a calculated cost of at most 30, where
//! `__typename` costs 0, a field returning a `Metafield` 3 (its fields 0), the `metaobject`
//! root 1, `field(key:)` on a Metaobject 3, `hasAnyTag`/`hasTags`/`inAnyCollection`/
//! `inCollections` 3, and any other leaf field 1.

use std::collections::HashMap;

use graphql_parser::query::{
    Definition as QueryDefinition, OperationDefinition, Selection, SelectionSet,
};
use graphql_parser::schema::{Definition as SchemaDefinition, Type, TypeDefinition};

pub const MAX_BYTES: usize = 3000;
pub const MAX_COST: u32 = 30;

#[derive(Debug, thiserror::Error)]
pub enum CostError {
    #[error("the query does not parse: {0}")]
    Query(String),
    #[error("the schema does not parse: {0}")]
    Schema(String),
    #[error("`{parent}.{field}` is not in the schema")]
    UnknownField { parent: String, field: String },
    #[error("the query has no operation")]
    NoOperation,
}

/// The query without its comments, as Shopify measures it.
pub fn strip_comments(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    for line in query.lines() {
        let mut in_string = false;
        let mut kept = String::new();
        for c in line.chars() {
            match c {
                '"' => in_string = !in_string,
                '#' if !in_string => break,
                _ => {}
            }
            kept.push(c);
        }
        let kept = kept.trim_end();
        if !kept.is_empty() {
            out.push_str(kept);
            out.push('\n');
        }
    }
    out
}

pub fn byte_size(query: &str) -> usize {
    strip_comments(query).len()
}

/// Object, interface and union field types of a schema: type → field → field's named type.
struct Fields(HashMap<String, HashMap<String, String>>);

fn named(ty: &Type<'_, String>) -> String {
    match ty {
        Type::NamedType(name) => name.clone(),
        Type::ListType(inner) | Type::NonNullType(inner) => named(inner),
    }
}

impl Fields {
    fn parse(schema: &str) -> Result<Self, CostError> {
        let doc = graphql_parser::parse_schema::<String>(schema)
            .map_err(|e| CostError::Schema(e.to_string()))?;
        let mut types = HashMap::new();
        for definition in doc.definitions {
            let (name, fields) = match definition {
                SchemaDefinition::TypeDefinition(TypeDefinition::Object(object)) => {
                    (object.name, object.fields)
                }
                SchemaDefinition::TypeDefinition(TypeDefinition::Interface(interface)) => {
                    (interface.name, interface.fields)
                }
                _ => continue,
            };
            let fields = fields
                .iter()
                .map(|f| (f.name.clone(), named(&f.field_type)))
                .collect();
            types.insert(name, fields);
        }
        Ok(Fields(types))
    }

    fn field_type(&self, parent: &str, field: &str) -> Result<&str, CostError> {
        self.0
            .get(parent)
            .and_then(|fields| fields.get(field))
            .map(String::as_str)
            .ok_or_else(|| CostError::UnknownField {
                parent: parent.to_string(),
                field: field.to_string(),
            })
    }
}

/// The calculated cost of the query's first operation against `schema` (root type `Input`).
pub fn cost(query: &str, schema: &str) -> Result<u32, CostError> {
    let fields = Fields::parse(schema)?;
    let doc = graphql_parser::parse_query::<String>(query)
        .map_err(|e| CostError::Query(e.to_string()))?;
    let selection = doc
        .definitions
        .iter()
        .find_map(|d| match d {
            QueryDefinition::Operation(OperationDefinition::Query(q)) => Some(&q.selection_set),
            QueryDefinition::Operation(OperationDefinition::SelectionSet(s)) => Some(s),
            _ => None,
        })
        .ok_or(CostError::NoOperation)?;
    selection_cost(&fields, "Input", selection)
}

fn selection_cost(
    fields: &Fields,
    parent: &str,
    selection: &SelectionSet<'_, String>,
) -> Result<u32, CostError> {
    let mut total = 0;
    for item in &selection.items {
        total += match item {
            Selection::Field(field) => {
                let name = field.name.as_str();
                if name == "__typename" {
                    continue;
                }
                let ty = fields.field_type(parent, name)?;
                let children = || selection_cost(fields, ty, &field.selection_set);
                match name {
                    _ if ty == "Metafield" => 3,
                    "field" if parent == "Metaobject" => 3,
                    "hasAnyTag" | "hasTags" | "inAnyCollection" | "inCollections" => {
                        3 + children()?
                    }
                    "metaobject" => 1 + children()?,
                    _ if field.selection_set.items.is_empty() => 1,
                    _ => children()?,
                }
            }
            Selection::InlineFragment(fragment) => {
                let on = match &fragment.type_condition {
                    Some(graphql_parser::query::TypeCondition::On(name)) => name.as_str(),
                    None => parent,
                };
                selection_cost(fields, on, &fragment.selection_set)?
            }
            // Input queries here use no named fragments.
            Selection::FragmentSpread(_) => 0,
        };
    }
    Ok(total)
}
