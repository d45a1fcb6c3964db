-- What `inventory_levels/update` needs to find the open orders an inventory change concerns.
-- The delivery names an inventory item; order webhooks name variants. Both are kept here,
-- from the order webhooks the service already receives, so a change to an item no open
-- order contains costs no Admin API call.

-- From the order payload's `fulfillment_status` (null, `partial`, `fulfilled`), kept with
-- the newest version like `cancelled_at`.
ALTER TABLE order_versions ADD COLUMN fulfillment_status TEXT;

-- The variants on each order, as of the order's newest version seen.
CREATE TABLE order_lines (
    shop TEXT NOT NULL,
    order_id TEXT NOT NULL,
    variant_id TEXT NOT NULL,
    PRIMARY KEY (shop, order_id, variant_id)
);
CREATE INDEX order_lines_variant ON order_lines (shop, variant_id);

-- Each variant's inventory item, read once from the Admin API (a variant keeps its item for
-- life). `inventory_item_id` is empty when the variant no longer exists.
CREATE TABLE variant_items (
    shop TEXT NOT NULL,
    variant_id TEXT NOT NULL,
    inventory_item_id TEXT NOT NULL,
    PRIMARY KEY (shop, variant_id)
);
CREATE INDEX variant_items_item ON variant_items (shop, inventory_item_id);
