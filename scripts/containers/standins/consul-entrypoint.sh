#!/bin/sh
# As the official hashicorp/consul image: arguments that are a consul subcommand (or start with
# "-") run as `consul ...`; anything else runs as given. Default: a dev agent.
set -e
case ${1:-} in
  ''|-*) set -- consul agent -dev -client 0.0.0.0 "$@" ;;
  agent|members|kv|services|catalog|info|join|leave|operator|acl|validate|version|snapshot|lock|watch|event|exec|keygen|keyring|maint|monitor|reload|rtt|debug|config|connect|intention|login|logout|force-leave|tls|troubleshoot|peering|resource|license)
    set -- consul "$@" ;;
esac
exec "$@"
