# Consul dev agent: one in-memory server on 127.0.0.1. Sourced by scripts/services.
# shellcheck shell=bash

consul_alloc() {
  local ports; mapfile -t ports < <(free_ports 5)
  state_set CONSUL_HTTP_PORT "${ports[0]}"
  state_set CONSUL_DNS_PORT "${ports[1]}"
  state_set CONSUL_SERF_LAN_PORT "${ports[2]}"
  state_set CONSUL_SERF_WAN_PORT "${ports[3]}"
  state_set CONSUL_SERVER_PORT "${ports[4]}"
}

consul_write_config() {
  mkdir -p "$PF_DIR/consul"
  # -dev defaults gRPC to 8502 and gRPC-TLS to 8503: both off, so that no
  # fixed port is taken and several sets can run side by side.
  cat > "$PF_DIR/consul/config.json" <<JSON
{
  "node_name": "pilotfish-dev",
  "bind_addr": "127.0.0.1",
  "client_addr": "127.0.0.1",
  "advertise_addr": "127.0.0.1",
  "disable_update_check": true,
  "log_level": "INFO",
  "ui_config": { "enabled": false },
  "ports": {
    "http": $CONSUL_HTTP_PORT,
    "dns": $CONSUL_DNS_PORT,
    "serf_lan": $CONSUL_SERF_LAN_PORT,
    "serf_wan": $CONSUL_SERF_WAN_PORT,
    "server": $CONSUL_SERVER_PORT,
    "grpc": -1,
    "grpc_tls": -1,
    "https": -1
  }
}
JSON
}

consul_start() {
  local bin; bin="$(require_bin consul "$CONSUL_VERSION")"
  state_load
  consul_write_config
  spawn consul "$bin" agent -dev -config-file="$PF_DIR/consul/config.json"
}

consul_ready() {
  state_load
  local addr="http://127.0.0.1:$CONSUL_HTTP_PORT"
  wait_until 60 "consul leader" consul_has_leader "$addr" || return 1
  # A leader exists before the agent has synced itself into the catalog;
  # sessions need the node registered.
  wait_until 30 "consul node registration" http_ok "$addr/v1/catalog/node/pilotfish-dev"
}

consul_has_leader() { # consul_has_leader ADDR
  local leader; leader="$(curl -fsS --max-time 2 "$1/v1/status/leader")" || return 1
  [[ "$leader" == \"?*\" ]]
}

consul_exports() {
  printf 'CONSUL_HTTP_ADDR=http://127.0.0.1:%s\n' "$CONSUL_HTTP_PORT"
}
