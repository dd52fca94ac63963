#!/bin/sh
# Demo data in Consul: WordPress settings in KV, and the database registered as the "mariadb"
# service with the "primary" tag (what examples/mariadb's elected primary carries).
set -eu
export CONSUL_HTTP_ADDR=${CONSUL_HTTP_ADDR:-consul:8500}
consul kv put wordpress/db_name "${WP_DB_NAME:-wordpress}"
consul kv put wordpress/table_prefix "${WP_TABLE_PREFIX:-wp_}"
consul kv put wordpress/debug false
cat > /tmp/mariadb.json <<JSON
{"service": {"id": "mariadb-1", "name": "mariadb", "address": "mariadb", "port": 3306, "tags": ["primary"]}}
JSON
consul services register /tmp/mariadb.json
echo "consul seeded"
