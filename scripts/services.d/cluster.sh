# A Consul server cluster in network namespaces, plus "host" namespaces for
# Pilotfish instances. Sourced by scripts/services.
#
# Slot k (0..9, the first free one) owns: bridge pf-br<k> at 10.77.<k>.1/24 in
# the root namespace; per member NAME a namespace pf<k>-NAME whose eth0 is
# the peer of veth pfv<k>-NAME, enslaved to the bridge. Servers are c1..cN at
# 10.77.<k>.11.. ; hosts get 10.77.<k>.100.. unless an address is given.
# shellcheck shell=bash

net_require_root() {
  [[ $EUID -eq 0 ]] || die "network namespaces need root (run as root, or without --consul-cluster)"
  command -v ip >/dev/null || die "ip (iproute2) not found (run: scripts/services install)"
}

# net_create: claims the first free slot by creating its bridge.
net_create() {
  net_require_root
  local k
  for k in 0 1 2 3 4 5 6 7 8 9; do
    if ip link add "pf-br$k" type bridge 2>/dev/null; then
      state_set NET_SLOT "$k"
      state_set NET_BRIDGE "pf-br$k"
      state_set NET_PREFIX "10.77.$k"
      state_set NET_MEMBERS ""
      ip addr add "10.77.$k.1/24" dev "pf-br$k"
      ip link set "pf-br$k" up
      return 0
    fi
  done
  die "no free network slot (bridges pf-br0..9 all exist; run: scripts/services down)"
}

net_ns() { printf 'pf%s-%s\n' "$NET_SLOT" "$1"; }
net_veth() { printf 'pfv%s-%s\n' "$NET_SLOT" "$1"; }

# net_attach NAME IP : a namespace for NAME, linked to the bridge.
net_attach() {
  local name="$1" ip="$2" ns veth
  [[ "$name" =~ ^[a-z0-9]{1,9}$ ]] || die "member name must be 1-9 of [a-z0-9]: $name"
  ns="$(net_ns "$name")" veth="$(net_veth "$name")"
  ip netns add "$ns" || die "namespace $ns exists already"
  ip link add "$veth" type veth peer name "${veth}p"
  ip link set "${veth}p" netns "$ns"
  ip -n "$ns" link set "${veth}p" name eth0
  ip -n "$ns" addr add "$ip/24" dev eth0
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "$NET_PREFIX.1"
  ip link set "$veth" master "$NET_BRIDGE"
  ip link set "$veth" up
  state_set NET_MEMBERS "${NET_MEMBERS:+$NET_MEMBERS }$name"
  state_set "NET_IP_$name" "$ip"
  NET_MEMBERS="${NET_MEMBERS:+$NET_MEMBERS }$name"
}

net_detach() { # net_detach NAME
  local name="$1" m rest=""
  ip link del "$(net_veth "$name")" 2>/dev/null || true
  ip netns del "$(net_ns "$name")" 2>/dev/null || true
  for m in $NET_MEMBERS; do [[ "$m" == "$name" ]] || rest="${rest:+$rest }$m"; done
  NET_MEMBERS="$rest"
  state_set NET_MEMBERS "$rest"
}

net_destroy() {
  [[ -n "${NET_BRIDGE:-}" ]] || return 0
  local m
  for m in $NET_MEMBERS; do net_detach "$m"; done
  ip link del "$NET_BRIDGE" 2>/dev/null || true
  state_set NET_BRIDGE ""
}

net_member_ip() { local v="NET_IP_$1"; printf '%s\n' "${!v:-}"; }

# --- Consul servers ------------------------------------------------------------

cluster_create() { # cluster_create N
  local n="$1" i
  [[ "$n" =~ ^[1-9]$ ]] || die "--consul-cluster takes a size of 1..9"
  net_create
  state_load
  state_set CONSUL_MODE cluster
  state_set CONSUL_CLUSTER_SIZE "$n"
  for ((i = 1; i <= n; i++)); do net_attach "c$i" "$NET_PREFIX.$((10 + i))"; done
}

cluster_server_config() { # cluster_server_config I
  local i="$1" j joins="" ip
  ip="$(net_member_ip "c$i")"
  for ((j = 1; j <= CONSUL_CLUSTER_SIZE; j++)); do
    ((j == i)) || joins="${joins:+$joins, }\"$(net_member_ip "c$j")\""
  done
  mkdir -p "$PF_DIR/consul-c$i/data"
  cat > "$PF_DIR/consul-c$i/config.json" <<JSON
{
  "node_name": "c$i",
  "datacenter": "dc1",
  "server": true,
  "bootstrap_expect": $CONSUL_CLUSTER_SIZE,
  "data_dir": "$PF_DIR/consul-c$i/data",
  "bind_addr": "$ip",
  "advertise_addr": "$ip",
  "client_addr": "127.0.0.1 $ip",
  "retry_join": [$joins],
  "retry_interval": "1s",
  "performance": { "raft_multiplier": 1 },
  "disable_update_check": true,
  "log_level": "INFO",
  "ui_config": { "enabled": false },
  "ports": { "grpc": -1, "grpc_tls": -1, "https": -1 }
}
JSON
}

cluster_start_server() { # cluster_start_server I
  local i="$1" bin
  bin="$(require_bin consul "$CONSUL_VERSION")"
  cluster_server_config "$i"
  spawn "consul-c$i" ip netns exec "$(net_ns "c$i")" \
    "$bin" agent -config-file="$PF_DIR/consul-c$i/config.json"
}

cluster_start() { # starts every server that is not running
  state_load
  local i
  for ((i = 1; i <= CONSUL_CLUSTER_SIZE; i++)); do
    proc_alive "consul-c$i" || cluster_start_server "$i"
  done
}

cluster_ready() {
  state_load
  local i
  for ((i = 1; i <= CONSUL_CLUSTER_SIZE; i++)); do
    proc_alive "consul-c$i" || continue
    wait_until 90 "consul server c$i to see a leader and $CONSUL_CLUSTER_SIZE peers" \
      cluster_server_ready "http://$(net_member_ip "c$i"):8500" || return 1
  done
}

cluster_server_ready() { # cluster_server_ready ADDR
  consul_has_leader "$1" || return 1
  local peers; peers="$(curl -fsS --max-time 2 "$1/v1/status/peers")" || return 1
  [[ "$(grep -o '"[^"]*"' <<<"$peers" | wc -l)" -eq "$CONSUL_CLUSTER_SIZE" ]]
}

cluster_exports() {
  local i addrs=""
  for ((i = 1; i <= CONSUL_CLUSTER_SIZE; i++)); do
    addrs="${addrs:+$addrs,}http://$(net_member_ip "c$i"):8500"
  done
  printf 'CONSUL_HTTP_ADDR=http://%s:8500\n' "$(net_member_ip c1)"
  printf 'CONSUL_CLUSTER_ADDRS=%s\n' "$addrs"
  printf 'PILOTFISH_NET_BRIDGE=%s\n' "$NET_BRIDGE"
  printf 'PILOTFISH_NET_GATEWAY=%s.1\n' "$NET_PREFIX"
}

# --- hosts ---------------------------------------------------------------------

host_add() { # host_add NAME [IP] ; prints "NETNS IP"
  local name="$1" ip="${2:-}" n
  state_load
  [[ -n "${NET_BRIDGE:-}" ]] || die "no network in $PF_DIR (start one with: scripts/services up --consul-cluster 3)"
  if [[ -z "$ip" ]]; then
    for ((n = 100; n < 250; n++)); do
      grep -q "='$NET_PREFIX.$n'\$\|=$NET_PREFIX.$n\$" "$(state_file)" || { ip="$NET_PREFIX.$n"; break; }
    done
  fi
  [[ -n "$ip" ]] || die "no free address left in $NET_PREFIX.0/24"
  net_attach "$name" "$ip"
  printf '%s %s\n' "$(net_ns "$name")" "$ip"
}

host_del() { # host_del NAME
  state_load
  [[ "$1" != c[0-9] ]] || die "$1 is a Consul server; use: scripts/services down"
  net_detach "$1"
}

netns_link() { # netns_link NAME up|down
  state_load
  [[ " $NET_MEMBERS " == *" $1 "* ]] || die "no network member named $1 (members: $NET_MEMBERS)"
  ip link set "$(net_veth "$1")" "$2"
}
