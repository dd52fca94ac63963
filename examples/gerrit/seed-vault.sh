#!/bin/sh
# The backup encryption key, in Vault (KV v2 at secret/). Kept if it already exists: a new key
# would not open the existing snapshots.
set -eu
export VAULT_ADDR=${VAULT_ADDR:-http://vault:8200}
vault kv get secret/gerrit/backup > /dev/null 2>&1 && { echo "key exists"; exit 0; }
vault kv put secret/gerrit/backup key="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "vault seeded"
