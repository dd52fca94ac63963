#!/bin/sh
# Demo settings in Consul KV. The database registers itself (the "mariadb" service; its elected
# primary carries the "primary" tag wp-config.php is rendered from).
set -eu
export CONSUL_HTTP_ADDR=${CONSUL_HTTP_ADDR:-consul:8500}
consul kv put wordpress/db_name "${WP_DB_NAME:-wordpress}"
consul kv put wordpress/table_prefix "${WP_TABLE_PREFIX:-wp_}"
consul kv put wordpress/debug false
echo "consul seeded"
