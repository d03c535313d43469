package correlate

// CausePoolSaturated is the early warning (a check finding, not an
// incident cause): php-fpm said "server reached pm.max_children" for a
// pool, so new requests queue; with the stock 60 s fastcgi_read_timeout the
// first 504 often follows a minute later. The agent raises it from the
// event stream (agent/earlywarn); the correlator itself is unchanged.
const CausePoolSaturated Cause = "php_fpm_pool_saturated"
