-- Staff bulk cancellation by policy: one row per run, advanced one page at a time by a
-- `bulk_page` job. `pages` is the number of pages committed: a page job whose page number is
-- not `pages` was committed before (a resumed run) and counts nothing twice.

CREATE TABLE bulk_cancellations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shop TEXT NOT NULL,
    query TEXT NOT NULL,
    trigger_name TEXT NOT NULL,
    dry_run BIGINT NOT NULL DEFAULT 0,
    page_size BIGINT NOT NULL,
    status TEXT NOT NULL,
    cursor TEXT,
    pages BIGINT NOT NULL DEFAULT 0,
    orders_seen BIGINT NOT NULL DEFAULT 0,
    decided BIGINT NOT NULL DEFAULT 0,
    errors BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX bulk_cancellations_shop ON bulk_cancellations (shop, id);

-- Orders decided per outcome (`cancel`, `deny`, `review`, …).
CREATE TABLE bulk_cancellation_outcomes (
    bulk_id BIGINT NOT NULL REFERENCES bulk_cancellations (id) ON DELETE CASCADE,
    outcome TEXT NOT NULL,
    orders BIGINT NOT NULL,
    PRIMARY KEY (bulk_id, outcome)
);

-- Orders that could not be decided, with why.
CREATE TABLE bulk_cancellation_errors (
    bulk_id BIGINT NOT NULL REFERENCES bulk_cancellations (id) ON DELETE CASCADE,
    order_id TEXT NOT NULL,
    message TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (bulk_id, order_id)
);
