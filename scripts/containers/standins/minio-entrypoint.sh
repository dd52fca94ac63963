#!/bin/sh
# As the official minio/minio image: arguments run as `minio ...` unless they already name a
# program (`minio`, or anything on the PATH that is not a minio subcommand).
set -e
case ${1:-} in
  minio) ;;
  ''|server|gateway|-*|--*) set -- minio "$@" ;;
  *) command -v "$1" >/dev/null 2>&1 || set -- minio "$@" ;;
esac
exec "$@"
