#!/bin/sh
# Demo secrets in Vault (KV v2 at secret/): WordPress's database credentials and keys and salts,
# and the database's own root and replication credentials (examples/mariadb). Kept when they
# exist, so that a re-run of the seed never changes what a restored database expects.
set -eu
export VAULT_ADDR=${VAULT_ADDR:-http://vault:8200}
pw() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
salt() { head -c 48 /dev/urandom | base64 | tr -d '\n/+='; }
vault kv get secret/wordpress/db > /dev/null 2>&1 ||
  vault kv put secret/wordpress/db user="${WP_DB_USER:?}" password="${WP_DB_PASSWORD:?}"
vault kv get secret/wordpress/keys > /dev/null 2>&1 ||
  vault kv put secret/wordpress/keys \
    auth_key="$(salt)" secure_auth_key="$(salt)" logged_in_key="$(salt)" nonce_key="$(salt)" \
    auth_salt="$(salt)" secure_auth_salt="$(salt)" logged_in_salt="$(salt)" nonce_salt="$(salt)"
vault kv get secret/mariadb/root > /dev/null 2>&1 || vault kv put secret/mariadb/root password="$(pw)"
vault kv get secret/mariadb/replication > /dev/null 2>&1 ||
  vault kv put secret/mariadb/replication user=replicator password="$(pw)"
echo "vault seeded"
