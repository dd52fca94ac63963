#!/usr/bin/env bash
# smoke.sh: end-to-end check of the wordpress stand-in built by build.sh, under podman, with the
# mariadb:11 stand-in from provision.sh, on a podman network (names resolve through dnsname):
#   1. GET /wp-admin/install.php: 200, "WordPress", X-Powered-By: PHP/...
#   2. POST /wp-admin/install.php?step=2 installs the site ("Canary", user admin)
#   3. GET / shows "Canary"
#   4. XML-RPC wp.uploadFile (user/password) stores a file; GET of its URL returns the same bytes
#   5. podman stop (SIGWINCH, Apache's graceful stop) ends the container with exit code 0
# Every container, network and volume it creates is removed at the end (by id / name).
#   IMAGE=docker.io/library/wordpress:6-php8.4-apache DB_IMAGE=docker.io/library/mariadb:11 smoke.sh
set -Eeuo pipefail

IMAGE=${IMAGE:-docker.io/library/wordpress:6-php8.4-apache}
DB_IMAGE=${DB_IMAGE:-docker.io/library/mariadb:11}
ID=wpsmoke-$$-$RANDOM
NET=$ID-net DB=$ID-db WP=$ID-wp
DB_PW=wp-$RANDOM$RANDOM ROOT_PW=root-$RANDOM$RANDOM ADMIN_PW=Adm1n-$RANDOM$RANDOM
T0=$(date +%s) TS=$(date +%s) TIMINGS=()
log() { echo "smoke.sh [$(( $(date +%s) - T0 ))s]: $*" >&2; }
step() { local now; now=$(date +%s); TIMINGS+=("$(printf '%-40s %4ss' "$1" "$((now - TS))")"); TS=$now; log "ok: $1"; }
die() { echo "smoke.sh: FAIL: $*" >&2; exit 1; }
TMP=$(mktemp -d)
cleanup() {
  local rc=$?
  if [ "$rc" != 0 ]; then
    for c in "$WP" "$DB"; do
      podman container exists "$c" 2>/dev/null && { echo "--- logs of $c" >&2; podman logs --tail 40 "$c" >&2 || true; }
    done
  fi
  for c in "$WP" "$DB"; do podman rm -f -v -t 5 "$c" >/dev/null 2>&1 || true; done
  podman network rm -f "$NET" >/dev/null 2>&1 || true
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "smoke.sh: FAIL: command failed at line $LINENO: $BASH_COMMAND" >&2' ERR

podman image exists "$IMAGE" || die "$IMAGE is missing: run build.sh"
podman image exists "$DB_IMAGE" || die "$DB_IMAGE is missing: run scripts/containers/provision.sh"

podman network create "$NET" >/dev/null
podman run -d --pull=never --name "$DB" --network "$NET" \
  -e MARIADB_DATABASE=wordpress -e MARIADB_USER=wp -e MARIADB_PASSWORD="$DB_PW" \
  -e MARIADB_ROOT_PASSWORD="$ROOT_PW" "$DB_IMAGE" >/dev/null
for i in $(seq 120); do
  podman exec "$DB" healthcheck.sh --connect --innodb_initialized >/dev/null 2>&1 && break
  [ "$(podman inspect -f '{{.State.Running}}' "$DB")" = true ] || die "the database container exited"
  sleep 1
done
podman exec "$DB" healthcheck.sh --connect --innodb_initialized >/dev/null 2>&1 || die "the database never became ready"
step "mariadb ready"

podman run -d --pull=never --name "$WP" --network "$NET" -p 127.0.0.1::80 \
  -e WORDPRESS_DB_HOST="$DB" -e WORDPRESS_DB_USER=wp -e WORDPRESS_DB_PASSWORD="$DB_PW" \
  -e WORDPRESS_DB_NAME=wordpress -e WORDPRESS_TABLE_PREFIX=wp_ "$IMAGE" >/dev/null
PORT=$(podman port "$WP" 80/tcp | sed 's/.*://')
[ -n "$PORT" ] || die "no published port"
BASE=http://127.0.0.1:$PORT
for i in $(seq 60); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/wp-admin/install.php" || true)
  [ "$code" = 200 ] && break
  [ "$(podman inspect -f '{{.State.Running}}' "$WP")" = true ] || die "the wordpress container exited"
  sleep 0.5
done
step "wordpress answers on :$PORT"

podman logs "$WP" > "$TMP/wp.log" 2>&1
grep -q 'WordPress not found in /var/www/html - copying now' "$TMP/wp.log" || die "the entrypoint did not copy WordPress"
grep -q "No 'wp-config.php' found in /var/www/html, but 'WORDPRESS_...' variables supplied" "$TMP/wp.log" \
  || die "the entrypoint did not write wp-config.php"
pid1=$(podman exec "$WP" cat /proc/1/cmdline | tr '\0' ' ')
[[ $pid1 == "apache2 -DFOREGROUND"* ]] || die "PID 1 is not Apache in the foreground: $pid1"
podman exec "$WP" sh -c 'test "$(stat -c %U /var/www/html/wp-config.php /var/www/html/index.php | sort -u)" = www-data' \
  || die "the copied files are not owned by www-data"

curl -s -D "$TMP/h1" -o "$TMP/b1" "$BASE/wp-admin/install.php"
head -1 "$TMP/h1" | grep -q ' 200' || die "install.php: $(head -1 "$TMP/h1")"
grep -q WordPress "$TMP/b1" || die "install.php has no 'WordPress'"
powered=$(grep -i '^X-Powered-By:' "$TMP/h1" | tr -d '\r' || true)
[[ $powered == *PHP/* ]] || die "no X-Powered-By: PHP header"
step "GET install.php (200, $powered)"

# PHP under Apache: the extensions WordPress uses, no php.ini, /usr/local/etc/php/conf.d read
podman exec -i "$WP" sh -c 'cat > /var/www/html/smoke-ini.php' <<'EOF'
<?php
foreach (['mysqli','gd','intl','zip','curl','mbstring','dom','exif','bcmath','imagick','sodium','Zend OPcache'] as $e)
  echo $e, '=', extension_loaded($e) ? 1 : 0, "\n";
echo 'ini=', var_export(php_ini_loaded_file(), true), "\n";
echo 'opcache_files=', ini_get('opcache.max_accelerated_files'), "\n";
echo 'sapi=', PHP_SAPI, "\n";
EOF
curl -s "$BASE/smoke-ini.php" > "$TMP/ini.out"
podman exec "$WP" rm -f /var/www/html/smoke-ini.php
if grep -q '=0$' "$TMP/ini.out" || ! grep -q '^ini=false$' "$TMP/ini.out" || ! grep -q '^opcache_files=4000$' "$TMP/ini.out" \
   || ! grep -q '^sapi=apache2handler$' "$TMP/ini.out"; then
  cat "$TMP/ini.out" >&2; die "PHP under Apache is not set up as expected"
fi
step "mod_php: extensions, no php.ini, conf.d"

curl -s -o "$TMP/b2" -w '%{http_code}' "$BASE/wp-admin/install.php?step=2" \
  --data-urlencode weblog_title=Canary --data-urlencode user_name=admin \
  --data-urlencode admin_password="$ADMIN_PW" --data-urlencode admin_password2="$ADMIN_PW" \
  --data-urlencode pw_weak=1 --data-urlencode admin_email=a@example.com --data-urlencode blog_public=0 \
  --data-urlencode language= > "$TMP/c2"
[ "$(cat "$TMP/c2")" = 200 ] || die "install step 2 answered $(cat "$TMP/c2")"
grep -q 'Success!' "$TMP/b2" || { sed 's/<[^>]*>//g' "$TMP/b2" | grep -v '^\s*$' | head -20 >&2; die "install step 2 did not report success"; }
step "POST install.php?step=2"

curl -s -o "$TMP/b3" "$BASE/"
grep -q Canary "$TMP/b3" || die "the front page does not show Canary"
step "GET / shows Canary"

# XML-RPC wp.uploadFile with the admin's user name and password
head -c 4096 /dev/urandom | base64 -w0 | head -c 3000 > "$TMP/up.txt"; echo >> "$TMP/up.txt"
b64=$(base64 -w0 "$TMP/up.txt")
cat > "$TMP/rpc.xml" <<EOF
<?xml version="1.0"?>
<methodCall><methodName>wp.uploadFile</methodName><params>
<param><value><int>1</int></value></param>
<param><value><string>admin</string></value></param>
<param><value><string>$ADMIN_PW</string></value></param>
<param><value><struct>
<member><name>name</name><value><string>canary-$ID.txt</string></value></member>
<member><name>type</name><value><string>text/plain</string></value></member>
<member><name>bits</name><value><base64>$b64</base64></value></member>
<member><name>overwrite</name><value><boolean>1</boolean></value></member>
</struct></value></param>
</params></methodCall>
EOF
curl -s -o "$TMP/rpc.out" -H 'Content-Type: text/xml' --data-binary @"$TMP/rpc.xml" "$BASE/xmlrpc.php"
grep -q faultCode "$TMP/rpc.out" && { cat "$TMP/rpc.out" >&2; die "wp.uploadFile returned a fault"; }
url=$(tr -d '\n' < "$TMP/rpc.out" | grep -o '<name>url</name><value><string>[^<]*' | head -1 | sed 's/.*<string>//')
[ -n "$url" ] || { cat "$TMP/rpc.out" >&2; die "wp.uploadFile returned no url"; }
curl -s -o "$TMP/down.txt" -w '%{http_code}' "$url" > "$TMP/c4"
[ "$(cat "$TMP/c4")" = 200 ] && cmp -s "$TMP/up.txt" "$TMP/down.txt" || die "GET $url did not return the uploaded bytes (HTTP $(cat "$TMP/c4"))"
step "XML-RPC upload + GET ${url#$BASE}"

t=$(date +%s)
podman stop -t 20 "$WP" >/dev/null
rc=$(podman inspect -f '{{.State.ExitCode}}' "$WP")
[ "$rc" = 0 ] || die "the wordpress container exited with $rc after podman stop"
step "podman stop (SIGWINCH) exit 0 in $(( $(date +%s) - t ))s"

printf '%s\n' "${TIMINGS[@]}" >&2
printf '%-40s %4ss\n' total "$(( $(date +%s) - T0 ))" >&2
echo "smoke.sh: PASS"
