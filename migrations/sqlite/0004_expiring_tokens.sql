-- Expiring offline access tokens: the access token lasts an hour, its refresh token 90 days;
-- both expiries (RFC 3339 UTC, like every timestamp here) tell the service when to refresh.
-- NULL: the token does not expire (a non-expiring offline token) or its expiry is unknown.
-- https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens
ALTER TABLE shops ADD COLUMN access_token_expires_at TEXT;
ALTER TABLE shops ADD COLUMN refresh_token_expires_at TEXT;
