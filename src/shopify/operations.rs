//! Typed Admin GraphQL operations, generated from `schema/operations/*.graphql` and checked
//! against the pruned official 2026-04 schema at compile time (an unknown field or a wrong
//! argument type is a build error).
#![allow(clippy::all, missing_docs)]

use graphql_client::GraphQLQuery;

// Custom scalars of the Admin API, as they arrive in JSON.
pub type DateTime = String;
pub type Decimal = String;
pub type Money = String;
#[allow(clippy::upper_case_acronyms)]
pub type JSON = serde_json::Value;
#[allow(clippy::upper_case_acronyms)]
pub type URL = String;
/// Shopify sends `UnsignedInt64` as a string; accept a number too.
pub type UnsignedInt64 = serde_json::Value;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "schema/admin-2026-04.graphql",
    query_path = "schema/operations/order_facts.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone",
    skip_serializing_none
)]
pub struct OrderFacts;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "schema/admin-2026-04.graphql",
    query_path = "schema/operations/order_state.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone",
    skip_serializing_none
)]
pub struct OrderState;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "schema/admin-2026-04.graphql",
    query_path = "schema/operations/job_status.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone",
    skip_serializing_none
)]
pub struct JobStatus;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "schema/admin-2026-04.graphql",
    query_path = "schema/operations/order_cancel.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone",
    skip_serializing_none
)]
pub struct OrderCancel;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "schema/admin-2026-04.graphql",
    query_path = "schema/operations/refund_create.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone, Deserialize",
    skip_serializing_none
)]
pub struct RefundCreate;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "schema/admin-2026-04.graphql",
    query_path = "schema/operations/suggested_refund.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone, Deserialize",
    skip_serializing_none
)]
pub struct SuggestedRefund;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "schema/admin-2026-04.graphql",
    query_path = "schema/operations/fulfillment_order_hold.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone",
    skip_serializing_none
)]
pub struct FulfillmentOrderHold;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "schema/admin-2026-04.graphql",
    query_path = "schema/operations/fulfillment_order_release_hold.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone",
    skip_serializing_none
)]
pub struct FulfillmentOrderReleaseHold;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "schema/admin-2026-04.graphql",
    query_path = "schema/operations/fulfillment_order_cancellation_request.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone",
    skip_serializing_none
)]
pub struct FulfillmentOrderSubmitCancellationRequest;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "schema/admin-2026-04.graphql",
    query_path = "schema/operations/tags_add.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone",
    skip_serializing_none
)]
pub struct TagsAdd;

/// Without `skip_serializing_none` on purpose: a `compareDigest` of `None` must reach Shopify as
/// an explicit `null` ("the metafield must not exist yet"), which is not the same as leaving the
/// field out (no compare-and-set at all). Callers therefore set every optional field.
/// https://shopify.dev/docs/api/admin-graphql/2026-04/mutations/metafieldsSet
#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "schema/admin-2026-04.graphql",
    query_path = "schema/operations/metafields_set.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone"
)]
pub struct MetafieldsSet;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "schema/admin-2026-04.graphql",
    query_path = "schema/operations/policy_metafields.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone",
    skip_serializing_none
)]
pub struct PolicyMetafields;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "schema/admin-2026-04.graphql",
    query_path = "schema/operations/flow_trigger_receive.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone",
    skip_serializing_none
)]
pub struct FlowTriggerReceive;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "schema/admin-2026-04.graphql",
    query_path = "schema/operations/orders_page.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone",
    skip_serializing_none
)]
pub struct OrdersPage;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "schema/admin-2026-04.graphql",
    query_path = "schema/operations/shop_info.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone",
    skip_serializing_none
)]
pub struct ShopInfo;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "schema/admin-2026-04.graphql",
    query_path = "schema/operations/variant_inventory_item.graphql",
    response_derives = "Debug, Clone, PartialEq",
    variables_derives = "Debug, Clone",
    skip_serializing_none
)]
pub struct VariantInventoryItem;
