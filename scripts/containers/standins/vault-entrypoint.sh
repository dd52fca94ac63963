#!/bin/sh
# As the official hashicorp/vault image: `server` and other vault subcommands run as
# `vault ...`; the default is a dev server (VAULT_DEV_ROOT_TOKEN_ID, VAULT_DEV_LISTEN_ADDRESS).
set -e
case ${1:-} in
  '') set -- vault server -dev ;;
  -*) set -- vault "$@" ;;
  server|status|login|kv|read|write|list|delete|secrets|auth|policy|token|lease|operator|audit|plugin|namespace|path-help|version|unwrap|print|pki|transit|agent|proxy|debug|monitor|events|hcp)
    set -- vault "$@" ;;
esac
exec "$@"
