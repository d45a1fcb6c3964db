#!/usr/bin/env python3
"""Prune Shopify's Admin GraphQL 2026-04 introspection to the SDL the dev store serves.

Usage: prune-admin-schema.py ADMIN_INTROSPECTION.json.gz OUTPUT.graphql

Reads the official introspection result ({"data":{"__schema":...}}), keeps only the root
fields and object fields in the allow-lists below, follows every type they reference
(arguments included), and writes SDL without descriptions. Input objects keep the fields in
INPUT_ALLOW when listed there, all their fields otherwise. Enums and scalars are kept whole.
Interfaces are kept only when listed in INTERFACES (with the allow-listed fields); an object
keeps `implements X` only for kept interfaces. Deprecated fields keep `@deprecated`.
The script fails when a reachable object type has no allow-list, so the schema stays small
on purpose. Standard library only.
"""
import gzip
import json
import sys

QUERY_FIELDS = ["order", "orders", "job", "node", "shop", "fulfillmentOrder",
                "product", "productVariant", "location"]
MUTATION_FIELDS = ["orderCancel", "refundCreate", "fulfillmentOrderHold",
                   "fulfillmentOrderReleaseHold", "fulfillmentOrderSubmitCancellationRequest",
                   "tagsAdd", "metafieldsSet", "orderRiskAssessmentCreate",
                   "inventoryAdjustQuantities", "flowTriggerReceive", "orderCreate"]

OBJECT_ALLOW = {
    "Order": """id name createdAt updatedAt processedAt cancelledAt cancelReason cancellation closed
        closedAt confirmed test tags note email phone customerLocale currencyCode
        presentmentCurrencyCode displayFinancialStatus displayFulfillmentStatus returnStatus
        totalPriceSet currentTotalPriceSet subtotalPriceSet totalRefundedSet totalReceivedSet
        netPaymentSet totalOutstandingSet totalShippingPriceSet totalCapturableSet
        originalTotalPriceSet paymentGatewayNames fullyPaid unpaid refundable fulfillable
        restockable requiresShipping customer purchasingEntity shippingAddress shippingLine
        shippingLines discountCode discountCodes channelInformation sourceName lineItems
        fulfillmentOrders risk refunds transactions metafield metafields suggestedRefund returns
        legacyResourceId""",
    "Customer": "id email displayName firstName lastName locale tags numberOfOrders metafield",
    "PurchasingCompany": "company contact location",
    "Company": "id name externalId",
    "CompanyContact": "id",
    "CompanyLocation": "id name",
    "MailingAddress": "id address1 city province provinceCode country countryCodeV2 zip firstName lastName",
    "ShippingLine": "id title code source carrierIdentifier originalPriceSet discountedPriceSet",
    "ShippingLineConnection": "nodes edges pageInfo",
    "ShippingLineEdge": "node cursor",
    "ChannelInformation": "id channelId displayName",
    "OrderCancellation": "staffNote",
    "LineItem": """id name title quantity currentQuantity unfulfilledQuantity refundableQuantity
        nonFulfillableQuantity fulfillableQuantity restockable sku variantTitle vendor isGiftCard requiresShipping
        taxable variant product sellingPlan originalUnitPriceSet discountedUnitPriceSet
        originalTotalSet""",
    "LineItemConnection": "nodes edges pageInfo",
    "LineItemEdge": "node cursor",
    "LineItemSellingPlan": "name sellingPlanId",
    "ProductVariant": """id title sku price inventoryQuantity inventoryPolicy inventoryItem product
        displayName metafield""",
    "Product": "id title handle tags productType vendor isGiftCard requiresSellingPlan collections metafield totalInventory",
    "Collection": "id title handle",
    "CollectionConnection": "nodes edges pageInfo",
    "CollectionEdge": "node cursor",
    "InventoryItem": "id sku tracked inventoryLevels",
    "InventoryLevel": "id location quantities",
    "InventoryLevelConnection": "nodes edges pageInfo",
    "InventoryLevelEdge": "node cursor",
    "InventoryQuantity": "name quantity",
    "Location": "id name isActive",
    "FulfillmentOrder": """id status requestStatus createdAt updatedAt fulfillAt fulfillBy
        fulfillmentHolds supportedActions assignedLocation lineItems merchantRequests order
        orderId orderName""",
    "FulfillmentOrderConnection": "nodes edges pageInfo",
    "FulfillmentOrderEdge": "node cursor",
    "FulfillmentOrderSupportedAction": "action externalUrl",
    "FulfillmentOrderAssignedLocation": "name location countryCode",
    "FulfillmentOrderLineItem": "id totalQuantity remainingQuantity lineItem sku productTitle",
    "FulfillmentOrderLineItemConnection": "nodes edges pageInfo",
    "FulfillmentOrderLineItemEdge": "node cursor",
    "FulfillmentOrderMerchantRequest": "id kind message requestOptions sentAt",
    "FulfillmentOrderMerchantRequestConnection": "nodes edges pageInfo",
    "FulfillmentOrderMerchantRequestEdge": "node cursor",
    "FulfillmentHold": "id handle reason reasonNotes displayReason heldByApp heldByRequestingApp",
    "App": "id title handle",
    "OrderRiskSummary": "recommendation assessments",
    "OrderRiskAssessment": "riskLevel facts provider",
    "RiskFact": "description sentiment",
    "Refund": """id note createdAt updatedAt processedAt totalRefundedSet refundLineItems
        transactions order""",
    "RefundLineItem": "id quantity restockType restocked lineItem location priceSet subtotalSet",
    "RefundLineItemConnection": "nodes edges pageInfo",
    "RefundLineItemEdge": "node cursor",
    "OrderTransaction": "id kind status gateway amountSet createdAt processedAt parentTransaction test",
    "OrderTransactionConnection": "nodes edges pageInfo",
    "OrderTransactionEdge": "node cursor",
    "Return": "id status name",
    "ReturnConnection": "nodes edges pageInfo",
    "ReturnEdge": "node cursor",
    "SuggestedRefund": """amountSet maximumRefundableSet subtotalSet totalTaxSet refundLineItems
        shipping suggestedTransactions discountedSubtotalSet totalCartDiscountAmountSet""",
    "ShippingRefund": "amountSet maximumRefundableSet",
    "SuggestedOrderTransaction": "kind gateway amountSet maximumRefundableSet parentTransaction",
    "Metafield": "id namespace key value type jsonValue compareDigest createdAt updatedAt",
    "MetafieldConnection": "nodes edges pageInfo",
    "MetafieldEdge": "node cursor",
    "MoneyBag": "shopMoney presentmentMoney",
    "MoneyV2": "amount currencyCode",
    "PageInfo": "hasNextPage hasPreviousPage startCursor endCursor",
    "OrderConnection": "nodes edges pageInfo",
    "OrderEdge": "node cursor",
    "Job": "id done query",
    "Shop": """id name email myshopifyDomain ianaTimezone timezoneAbbreviation timezoneOffset
        timezoneOffsetMinutes currencyCode plan metafield""",
    "ShopPlan": "partnerDevelopment shopifyPlus publicDisplayName",
    "QueryRoot": " ".join(QUERY_FIELDS),
    "Mutation": " ".join(MUTATION_FIELDS),
    # mutation payloads and user errors
    "OrderCancelPayload": "job orderCancelUserErrors userErrors",
    "OrderCancelUserError": "code field message",
    "UserError": "field message",
    "RefundCreatePayload": "order refund userErrors",
    "FulfillmentOrderHoldPayload": "fulfillmentHold fulfillmentOrder remainingFulfillmentOrder userErrors",
    "FulfillmentOrderHoldUserError": "code field message",
    "FulfillmentOrderReleaseHoldPayload": "fulfillmentOrder userErrors",
    "FulfillmentOrderReleaseHoldUserError": "code field message",
    "FulfillmentOrderSubmitCancellationRequestPayload": "fulfillmentOrder userErrors",
    "TagsAddPayload": "node userErrors",
    "MetafieldsSetPayload": "metafields userErrors",
    "MetafieldsSetUserError": "code elementIndex field message",
    "OrderRiskAssessmentCreatePayload": "orderRiskAssessment userErrors",
    "OrderRiskAssessmentCreateUserError": "code field message",
    "InventoryAdjustQuantitiesPayload": "inventoryAdjustmentGroup userErrors",
    "InventoryAdjustQuantitiesUserError": "code field message",
    "InventoryAdjustmentGroup": "id createdAt reason referenceDocumentUri changes",
    "InventoryChange": "name delta quantityAfterChange ledgerDocumentUri item location",
    "FlowTriggerReceivePayload": "userErrors",
    "OrderCreatePayload": "order userErrors",
    "OrderCreateUserError": "code field message",
}

# Input objects trimmed to what the dev store implements (others keep every field).
INPUT_ALLOW = {
    "OrderCreateOrderInput": """email note tags test currency presentmentCurrency lineItems
        shippingAddress shippingLines transactions customer financialStatus processedAt
        sourceName discountCode""",
    "OrderCreateLineItemInput": """variantId title quantity priceSet requiresShipping taxable
        sku giftCard""",
    "OrderCreateOptionsInput": "inventoryBehaviour sendReceipt sendFulfillmentReceipt",
    "OrderCreateOrderTransactionInput": "amountSet gateway kind status test processedAt",
    "OrderCreateShippingLineInput": "title code source priceSet",
    "OrderCreateCustomerInput": "toAssociate",
    "OrderCreateAssociateCustomerAttributesInput": "id email",
    "MailingAddressInput": "address1 address2 city company countryCode firstName lastName phone provinceCode zip",
}

INTERFACES = {"Node": "id"}
# Unions kept with their members restricted to kept objects.
UNIONS = {"PurchasingEntity"}


def type_ref(t):
    if t["kind"] == "NON_NULL":
        return type_ref(t["ofType"]) + "!"
    if t["kind"] == "LIST":
        return "[" + type_ref(t["ofType"]) + "]"
    return t["name"]


def named(t):
    while t.get("ofType"):
        t = t["ofType"]
    return t["name"]


def gql_string(s):
    return json.dumps(s)


def deprecated(f):
    if f.get("isDeprecated"):
        reason = f.get("deprecationReason")
        return " @deprecated" + (f"(reason: {gql_string(reason)})" if reason else "")
    return ""


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with gzip.open(sys.argv[1], "rt", encoding="utf-8") as fh:
        schema = json.load(fh)["data"]["__schema"]
    types = {t["name"]: t for t in schema["types"]}
    allow = {k: v.split() for k, v in OBJECT_ALLOW.items()}
    allow.update({k: v.split() for k, v in INTERFACES.items()})
    input_allow = {k: v.split() for k, v in INPUT_ALLOW.items()}

    keep, queue = [], ["QueryRoot", "Mutation", "String", "Boolean", "ID", "Int", "Float"]
    seen = set()
    while queue:
        name = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        t = types.get(name)
        if t is None:
            sys.exit(f"unknown type {name}")
        keep.append(name)
        kind = t["kind"]
        if kind in ("OBJECT", "INTERFACE"):
            if name not in allow:
                sys.exit(f"no allow-list for {kind.lower()} {name}")
            # An object must keep the fields of every interface it keeps implementing.
            for iface in t.get("interfaces") or []:
                for fname in INTERFACES.get(iface["name"], "").split():
                    if fname not in allow[name]:
                        allow[name].append(fname)
            fields = {f["name"]: f for f in t["fields"]}
            for fname in allow[name]:
                f = fields.get(fname)
                if f is None:
                    sys.exit(f"{name}.{fname} is not in the schema")
                queue.append(named(f["type"]))
                queue.extend(named(a["type"]) for a in f["args"])
        elif kind == "INPUT_OBJECT":
            for f in t["inputFields"]:
                if name not in input_allow or f["name"] in input_allow[name]:
                    queue.append(named(f["type"]))
        elif kind == "UNION":
            if name not in UNIONS:
                sys.exit(f"union {name} not allowed")
            for p in t["possibleTypes"]:
                if p["name"] in allow:
                    queue.append(p["name"])
    for d in schema["directives"]:
        if d["name"] == "idempotent":
            for a in d["args"]:
                queue.append(named(a["type"]))

    out = ["# Pruned from Shopify's official Admin GraphQL API 2026-04 introspection",
           "# (Shopify/Shopify-AI-Toolkit skills/shopify-admin/assets/admin_2026-04.json.gz, MIT).",
           "# Generated by scripts/prune-admin-schema.py; do not edit by hand.", "",
           "schema {\n  query: QueryRoot\n  mutation: Mutation\n}", ""]
    for d in schema["directives"]:
        if d["name"] == "idempotent":
            args = ", ".join(f"{a['name']}: {type_ref(a['type'])}" for a in d["args"])
            out.append(f"directive @idempotent({args}) on {' | '.join(d['locations'])}\n")
    builtin = {"String", "Boolean", "ID", "Int", "Float"}
    for name in sorted(keep):
        t = types[name]
        kind = t["kind"]
        if name in builtin:
            continue
        if kind == "SCALAR":
            out.append(f"scalar {name}\n")
        elif kind == "ENUM":
            vals = "\n".join(f"  {v['name']}{deprecated(v)}" for v in t["enumValues"])
            out.append(f"enum {name} {{\n{vals}\n}}\n")
        elif kind == "UNION":
            members = [p["name"] for p in t["possibleTypes"] if p["name"] in seen]
            out.append(f"union {name} = {' | '.join(members)}\n")
        elif kind == "INPUT_OBJECT":
            lines = []
            for f in t["inputFields"]:
                if name in input_allow and f["name"] not in input_allow[name]:
                    continue
                default = f" = {f['defaultValue']}" if f.get("defaultValue") is not None else ""
                lines.append(f"  {f['name']}: {type_ref(f['type'])}{default}{deprecated(f)}")
            directive = " @oneOf" if t.get("isOneOf") else ""
            out.append(f"input {name}{directive} {{\n" + "\n".join(lines) + "\n}\n")
        else:
            fields = {f["name"]: f for f in t["fields"]}
            lines = []
            for fname in allow[name]:
                f = fields[fname]
                args = ""
                if f["args"]:
                    parts = []
                    for a in f["args"]:
                        default = f" = {a['defaultValue']}" if a.get("defaultValue") is not None else ""
                        parts.append(f"{a['name']}: {type_ref(a['type'])}{default}")
                    args = "(" + ", ".join(parts) + ")"
                lines.append(f"  {fname}{args}: {type_ref(f['type'])}{deprecated(f)}")
            ifaces = [i["name"] for i in (t.get("interfaces") or []) if i["name"] in INTERFACES]
            impl = f" implements {' & '.join(ifaces)}" if ifaces else ""
            word = "interface" if kind == "INTERFACE" else "type"
            out.append(f"{word} {name}{impl} {{\n" + "\n".join(lines) + "\n}\n")
    with open(sys.argv[2], "w", encoding="utf-8") as fh:
        fh.write("\n".join(out))
    print(f"kept {len(keep)} types", file=sys.stderr)


if __name__ == "__main__":
    main()
