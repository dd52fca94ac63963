#!/bin/sh
# Credentials in Vault (KV v2 at secret/): root and replication. Kept when they exist.
set -eu
export VAULT_ADDR=${VAULT_ADDR:-http://vault:8200}
pw() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
vault kv get secret/mariadb/root > /dev/null 2>&1 || vault kv put secret/mariadb/root password="$(pw)"
vault kv get secret/mariadb/replication > /dev/null 2>&1 ||
  vault kv put secret/mariadb/replication user=replicator password="$(pw)"
echo "vault seeded"
