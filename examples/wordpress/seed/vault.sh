#!/bin/sh
# Demo secrets in Vault (KV v2 at secret/): the database credentials and fresh keys and salts.
set -eu
export VAULT_ADDR=${VAULT_ADDR:-http://vault:8200}
vault kv put secret/wordpress/db user="${WP_DB_USER:?}" password="${WP_DB_PASSWORD:?}"
salt() { head -c 48 /dev/urandom | base64 | tr -d '\n/+='; }
vault kv put secret/wordpress/keys \
  auth_key="$(salt)" secure_auth_key="$(salt)" logged_in_key="$(salt)" nonce_key="$(salt)" \
  auth_salt="$(salt)" secure_auth_salt="$(salt)" logged_in_salt="$(salt)" nonce_salt="$(salt)"
echo "vault seeded"
