# Vault dev server: in-memory, unsealed, root token "root", plus AppRole auth,
# KV v2 at secret/ and KV v1 at kv1/. Sourced by scripts/services.
# shellcheck shell=bash

PF_VAULT_TOKEN=root

vault_alloc() {
  # The dev server's cluster listener binds the API port + 1.
  state_set VAULT_PORT "$(free_ports --pairs 1)"
}

vault_start() {
  local bin; bin="$(require_bin vault "$VAULT_VERSION")"
  state_load
  mkdir -p "$PF_DIR/vault/home"
  # HOME keeps the dev server's ~/.vault-token inside DIR.
  spawn vault env HOME="$PF_DIR/vault/home" VAULT_DISABLE_MLOCK=true \
    "$bin" server -dev -dev-root-token-id="$PF_VAULT_TOKEN" \
    -dev-listen-address="$BIND_ADDR:$VAULT_PORT" -dev-no-store-token
}

vault_ready() {
  state_load
  local addr="http://$BIND_ADDR:$VAULT_PORT"
  wait_until 60 "vault to unseal" http_ok "$addr/v1/sys/health" || return 1
  vault_configure "$addr"
}

vault_api() { # vault_api ADDR METHOD PATH [JSON]
  local body=()
  [[ -n "${4:-}" ]] && body=(-H "Content-Type: application/json" --data "$4")
  curl -fsS --max-time 10 -X "$2" -H "X-Vault-Token: $PF_VAULT_TOKEN" "${body[@]}" "$1/v1/$3"
}

# Idempotent: dev state is lost on every restart, so `start vault` reruns it.
vault_configure() {
  local addr="$1" auths mounts
  auths="$(vault_api "$addr" GET sys/auth)" || return 1
  if [[ "$auths" != *'"approle/"'* ]]; then
    vault_api "$addr" POST sys/auth/approle '{"type":"approle"}' || return 1
  fi
  mounts="$(vault_api "$addr" GET sys/mounts)" || return 1
  if [[ "$mounts" != *'"secret/"'* ]]; then
    vault_api "$addr" POST sys/mounts/secret '{"type":"kv","options":{"version":"2"}}' || return 1
  fi
  if [[ "$mounts" != *'"kv1/"'* ]]; then
    vault_api "$addr" POST sys/mounts/kv1 '{"type":"kv","options":{"version":"1"}}' || return 1
  fi
}

vault_exports() {
  printf 'VAULT_ADDR=http://%s:%s\n' "$BIND_ADDR" "$VAULT_PORT"
  printf 'VAULT_TOKEN=%s\n' "$PF_VAULT_TOKEN"
}
