-- The companion service's state. Timestamps are RFC 3339 UTC text with a fixed width
-- (2026-01-02T03:04:05.000000Z) so text order is time order on both databases.

CREATE TABLE shops (
    domain TEXT PRIMARY KEY,
    access_token TEXT NOT NULL,
    refresh_token TEXT,
    token_expires_at TEXT,
    admin_url TEXT,
    timezone TEXT,
    installed_at TEXT NOT NULL,
    uninstalled_at TEXT
);

CREATE TABLE webhooks (
    webhook_id TEXT PRIMARY KEY,
    shop TEXT NOT NULL,
    topic TEXT NOT NULL,
    event_id TEXT,
    triggered_at TEXT,
    resource_id TEXT,
    customer_id TEXT,
    status TEXT NOT NULL,
    received_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX webhooks_resource ON webhooks (shop, resource_id);

-- The newest `updated_at` seen per order: older deliveries never overwrite it.
CREATE TABLE order_versions (
    shop TEXT NOT NULL,
    order_id TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    customer_id TEXT,
    cancelled_at TEXT,
    cancel_reason TEXT,
    PRIMARY KEY (shop, order_id)
);

CREATE TABLE policies (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shop TEXT NOT NULL,
    policy_id TEXT NOT NULL,
    version TEXT NOT NULL,
    hash TEXT NOT NULL,
    compiled TEXT NOT NULL,
    source TEXT,
    active BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    UNIQUE (shop, hash)
);

CREATE TABLE decisions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shop TEXT NOT NULL,
    order_id TEXT NOT NULL,
    customer_id TEXT,
    trigger_name TEXT NOT NULL,
    source TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    policy_hash TEXT NOT NULL,
    facts TEXT NOT NULL,
    rule TEXT,
    outcome TEXT NOT NULL,
    cancel_reason TEXT,
    decision TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX decisions_order ON decisions (shop, order_id);
CREATE INDEX decisions_customer ON decisions (shop, customer_id);

CREATE TABLE steps (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    decision_id BIGINT NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL,
    progress TEXT,
    result TEXT,
    error TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    started_at TEXT,
    finished_at TEXT,
    duration_ms BIGINT,
    UNIQUE (decision_id, seq)
);

CREATE TABLE jobs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shop TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    run_at TEXT NOT NULL,
    locked_by TEXT,
    locked_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (status, run_at);

CREATE TABLE flow_runs (
    action_run_id TEXT PRIMARY KEY,
    shop TEXT NOT NULL,
    order_id TEXT NOT NULL,
    decision_id BIGINT,
    received_at TEXT NOT NULL
);

CREATE TABLE compliance_exports (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shop TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    export TEXT NOT NULL
);
