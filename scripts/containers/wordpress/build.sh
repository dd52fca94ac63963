#!/usr/bin/env bash
# build.sh: a local stand-in for the official wordpress:*-apache image, built without Docker Hub
# from Debian trixie packages (wordpress 6.8.x, php8.4, libapache2-mod-php8.4, apache2 2.4) with
# mmdebstrap, and imported into podman as
#   docker.io/library/wordpress:6-php8.4-apache  (+ :6-apache, :latest, and any EXTRA_TAGS)
#
#   build.sh              build the image unless an image with the same recipe hash is there
#   build.sh --rebuild    build it again anyway
#   build.sh --check      only report: exit 0 if the image is there and current, 1 if not
#   EXTRA_TAGS="docker.io/library/wordpress:6-php8.3-apache"   more names for the same image
#                         (e.g. so that an unmodified `FROM wordpress:6-php8.3-apache` uses it;
#                         the PHP inside is still 8.4)
#
# Layout as the official image: WordPress under /usr/src/wordpress (a plain tree, no symlinks),
# docroot /var/www/html (VOLUME, WORKDIR), docker-entrypoint.sh that copies WordPress into the
# docroot when it has none and writes wp-config.php (reading WORDPRESS_DB_HOST/USER/PASSWORD/NAME,
# WORDPRESS_TABLE_PREFIX, ... and their _FILE variants at run time), CMD apache2-foreground
# (Apache with mod_php, mpm_prefork, in the foreground), EXPOSE 80, STOPSIGNAL SIGWINCH, Apache
# as www-data (33:33). See README.md for what differs.
#
# Sources, apt settings and CAs are read from this host at run time, as provision.sh does (the
# host's enabled Debian sources with the suite renamed to trixie); no registry host name is
# written here. Needs root, podman and mmdebstrap (run ../provision.sh
# first). Idempotent; exits non-zero with a message on the first failure.
set -Eeuo pipefail

SCRIPT_VERSION=1
WP_SUITE=${WORDPRESS_SUITE:-trixie}
PHPV=${PHP_SERIES:-8.4}
CACHE=${PILOTFISH_CONTAINERS_CACHE:-/var/cache/pilotfish-containers}
WORK=$CACHE/work/wordpress
LABEL=io.pilotfish.standin
IMAGE=docker.io/library/wordpress:6-php$PHPV-apache
TAGS=(docker.io/library/wordpress:6-apache docker.io/library/wordpress:latest ${EXTRA_TAGS:-})

REBUILD=0 CHECK_ONLY=0
for a in "$@"; do
  case $a in
    --rebuild) REBUILD=1 ;;
    --check) CHECK_ONLY=1 ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown option: $a (see --help)" >&2; exit 2 ;;
  esac
done

T0=$(date +%s)
TS=$T0
log() { echo "build.sh [$(( $(date +%s) - T0 ))s]: $*" >&2; }
step() { local now; now=$(date +%s); TIMINGS+=("$(printf '%-34s %4ss' "$1" "$((now - TS))")"); TS=$now; }
TIMINGS=()
die() { echo "build.sh: ERROR: $*" >&2; exit 1; }
trap 'rc=$?; echo "build.sh: ERROR: command failed (exit $rc) at line $LINENO: $BASH_COMMAND" >&2; exit $rc' ERR

[ "$(id -u)" = 0 ] || die "run as root"
. /etc/os-release
[ "${ID:-}" = debian ] || die "Debian hosts only (found ID=${ID:-?})"
SUITE=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
command -v podman >/dev/null || die "podman is missing: run scripts/containers/provision.sh first"
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: run scripts/containers/provision.sh first"
mkdir -p "$WORK"
# one build at a time (CI pre-builds it in the background while the tests may ask for it)
exec 8> "$WORK.lock"; flock 8

# ---------------------------------------------------------------------------------------------
# the host's apt sources (suite renamed), apt Acquire settings and CAs, as provision.sh reads them
# ---------------------------------------------------------------------------------------------
HOSTCFG=$WORK/hostcfg
rm -rf "$HOSTCFG"; mkdir -p "$HOSTCFG/ca-local" "$HOSTCFG/apt" "$HOSTCFG/sources"
CA_BUNDLE=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
[ -s "$CA_BUNDLE" ] || die "no CA bundle at $CA_BUNDLE"
cp "$CA_BUNDLE" "$HOSTCFG/ca-certificates.crt"
cp /usr/local/share/ca-certificates/*.crt "$HOSTCFG/ca-local/" 2>/dev/null || true
for f in /etc/apt/apt.conf /etc/apt/apt.conf.d/*; do        # the admin's own files, not packages'
  if [ -f "$f" ] && grep -q '^[^#/]*Acquire' "$f" && ! dpkg -S "$f" >/dev/null 2>&1; then
    cp "$f" "$HOSTCFG/apt/$(basename "$f").conf"
  fi
done
n=0
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  grep -qE "^[^#]*\b$SUITE\b" "$f" || continue           # Debian's own entries only
  grep -qE '^[[:space:]]*[^#[:space:]]' "$f" || continue
  n=$((n + 1)); sed -E "s/\b$SUITE\b/$WP_SUITE/g" "$f" > "$HOSTCFG/sources/$n-$(basename "$f")"
done
[ "$n" -gt 0 ] || die "found no enabled apt sources for $SUITE on this host"

# the recipe: this script without its comments (and the lock), the host's registry settings
HASH=$( (echo "$SCRIPT_VERSION $WP_SUITE $PHPV"; grep -v -e '^[[:space:]]*#' -e 'flock 8' "$0"; cd "$HOSTCFG" && find . -type f | sort | xargs cat) | sha256sum | cut -c1-16)
have=$(podman image inspect --format "{{index .Labels \"$LABEL\"}}" "$IMAGE" 2>/dev/null || true)
if [ "$REBUILD" = 0 ] && [ "$have" = "$HASH" ]; then
  for t in "${TAGS[@]}"; do
    podman image exists "$t" && [ "$(podman image inspect --format '{{.Id}}' "$t")" = "$(podman image inspect --format '{{.Id}}' "$IMAGE")" ] \
      || { [ "$CHECK_ONLY" = 1 ] && die "tag $t is missing"; podman tag "$IMAGE" "$t"; log "tagged $t"; }
  done
  log "$IMAGE is current (recipe $HASH); nothing to do"
  exit 0
fi
[ "$CHECK_ONLY" = 1 ] && die "$IMAGE is missing or stale (recipe $HASH, image has '${have:-none}')"
step "host configuration"

# ---------------------------------------------------------------------------------------------
# files that go into the image
# ---------------------------------------------------------------------------------------------
F=$WORK/files
rm -rf "$F"; mkdir -p "$F"

# The entrypoint: the official image's documented behaviour, re-implemented.
cat > "$F/docker-entrypoint.sh" <<'EOF'
#!/usr/bin/env bash
# docker-entrypoint.sh of the local wordpress:*-apache stand-in (build.sh). Same behaviour as the
# official image's entrypoint:
# - for `apache2*` / `php-fpm` commands (or when called as docker-ensure-installed.sh): when the
#   working directory (/var/www/html) holds no WordPress (no index.php, no wp-includes/version.php),
#   copy /usr/src/wordpress into it, owned by the Apache user (or the caller's uid when not root),
#   without overwriting an .htaccess or a wp-content/<kind>/<name> that is already there;
# - when there is no wp-config.php and any WORDPRESS_* variable is set, write wp-config.php from
#   wp-config-docker.php (which reads WORDPRESS_DB_HOST, _USER, _PASSWORD, _NAME, _CHARSET,
#   _COLLATE, WORDPRESS_TABLE_PREFIX, WORDPRESS_DEBUG, the keys and salts, WORDPRESS_CONFIG_EXTRA,
#   and each one's _FILE variant, when PHP runs), with random defaults for the keys and salts;
# - then exec the command.
set -Eeuo pipefail

self=$(basename "$0")
if [[ "${1:-}" == apache2* ]] || [ "${1:-}" = php-fpm ] || [ "$self" = docker-ensure-installed.sh ]; then
  uid=$(id -u) gid=$(id -g)
  if [ "$uid" = 0 ]; then
    if [[ "${1:-}" == apache2* ]]; then
      user=${APACHE_RUN_USER:-www-data} group=${APACHE_RUN_GROUP:-www-data}
      user=${user#'#'} group=${group#'#'}          # Apache accepts "#1000"
    else
      user=www-data group=www-data
    fi
  else
    user=$uid group=$gid
  fi

  if [ ! -e index.php ] && [ ! -e wp-includes/version.php ]; then
    if [ "$uid" = 0 ] && [ "$(stat -c '%u:%g' .)" = 0:0 ]; then chown "$user:$group" .; fi
    echo >&2 "WordPress not found in $PWD - copying now..."
    if [ -n "$(find . -mindepth 1 -maxdepth 1 ! -name wp-content)" ]; then
      echo >&2 "WARNING: $PWD is not empty! (copying anyhow)"
    fi
    src=(--create --file - --directory /usr/src/wordpress --owner "$user" --group "$group")
    dst=(--extract --file -)
    if [ "$uid" != 0 ]; then dst+=(--no-overwrite-dir --touch); fi
    # keep what is already there of the "pluggable" content (plugins, themes, .htaccess)
    for p in /usr/src/wordpress/.htaccess /usr/src/wordpress/wp-content/*/*/; do
      p=${p%/}
      [ -e "$p" ] || continue
      rel=${p#/usr/src/wordpress/}
      if [ -e "$PWD/$rel" ]; then
        echo >&2 "WARNING: '$PWD/$rel' exists! (not copying the WordPress version)"
        src+=(--exclude "./$rel")
      fi
    done
    tar "${src[@]}" . | tar "${dst[@]}"
    echo >&2 "Complete! WordPress has been successfully copied to $PWD"
  fi

  wpvars=("${!WORDPRESS_@}")
  if [ ! -s wp-config.php ] && [ "${#wpvars[@]}" -gt 0 ]; then
    for tpl in wp-config-docker.php /usr/src/wordpress/wp-config-docker.php; do
      [ -s "$tpl" ] || continue
      echo >&2 "No 'wp-config.php' found in $PWD, but 'WORDPRESS_...' variables supplied; copying '$tpl' (${wpvars[*]})"
      # every "put your unique phrase here" becomes its own random value
      awk '/put your unique phrase here/ {
             cmd = "head -c1m /dev/urandom | sha1sum | cut -d\\  -f1"; cmd | getline s; close(cmd)
             gsub("put your unique phrase here", s)
           } { print }' "$tpl" > wp-config.php
      if [ "$uid" = 0 ]; then chown "$user:$group" wp-config.php || true; fi
      break
    done
  fi
  if [ "$self" = docker-ensure-installed.sh ]; then
    [ $# -gt 0 ] || exit 0
  fi
fi

exec "$@"
EOF

# apache2-foreground: Apache in the foreground, as the php:*-apache images start it.
cat > "$F/apache2-foreground" <<'EOF'
#!/bin/bash
# apache2-foreground (wordpress stand-in, build.sh): Apache as PID of this script, in the
# foreground, with Debian's envvars (each one overridable from the environment).
set -e
: "${APACHE_CONFDIR:=/etc/apache2}"
: "${APACHE_ENVVARS:=$APACHE_CONFDIR/envvars}"
if [ -f "$APACHE_ENVVARS" ]; then . "$APACHE_ENVVARS"; fi
: "${APACHE_RUN_DIR:=/var/run/apache2}"
: "${APACHE_PID_FILE:=$APACHE_RUN_DIR/apache2.pid}"
rm -f "$APACHE_PID_FILE"                          # a stale pid file stops Apache from starting
for v in "${!APACHE_@}"; do                      # the run, lock and log directories must exist
  if [[ $v == *_DIR ]] && [[ ${!v} == /* ]]; then
    d=${!v}
    while [ "$d" != "$(dirname "$d")" ]; do      # /var/lock -> /run/lock that does not exist yet
      d=$(dirname "$d"); [ -d "$d" ] && break
      t=$(readlink -f "$d" 2>/dev/null || true); [ -z "$t" ] || mkdir -p "$t"
    done
    mkdir -p "${!v}"
  fi
done
exec apache2 -DFOREGROUND "$@"
EOF

# wp-config-docker.php: the configuration read from the environment when PHP runs.
cat > "$F/wp-config-docker.php" <<'EOF'
<?php
/**
 * wp-config.php of the local wordpress:*-apache stand-in (build.sh): every setting comes from the
 * environment when PHP runs, as in the official image. For each NAME, NAME_FILE (a file whose
 * contents, without a trailing newline, are the value) wins over NAME, which wins over the default.
 * docker-entrypoint.sh replaces each "put your unique phrase here" with a random value when it
 * copies this file to wp-config.php.
 */

if ( ! function_exists( 'getenv_docker' ) ) {
	// guarded: WP-CLI can load this file twice
	function getenv_docker( $env, $default ) {
		$file = getenv( $env . '_FILE' );
		if ( $file ) {
			return rtrim( file_get_contents( $file ), "\r\n" );
		}
		$val = getenv( $env );
		return $val !== false ? $val : $default;
	}
}

/** Database settings */
define( 'DB_NAME', getenv_docker( 'WORDPRESS_DB_NAME', 'wordpress' ) );
define( 'DB_USER', getenv_docker( 'WORDPRESS_DB_USER', 'example username' ) );
define( 'DB_PASSWORD', getenv_docker( 'WORDPRESS_DB_PASSWORD', 'example password' ) );
define( 'DB_HOST', getenv_docker( 'WORDPRESS_DB_HOST', 'mysql' ) );
define( 'DB_CHARSET', getenv_docker( 'WORDPRESS_DB_CHARSET', 'utf8mb4' ) );
define( 'DB_COLLATE', getenv_docker( 'WORDPRESS_DB_COLLATE', '' ) );

/** Authentication keys and salts */
define( 'AUTH_KEY',         getenv_docker( 'WORDPRESS_AUTH_KEY',         'put your unique phrase here' ) );
define( 'SECURE_AUTH_KEY',  getenv_docker( 'WORDPRESS_SECURE_AUTH_KEY',  'put your unique phrase here' ) );
define( 'LOGGED_IN_KEY',    getenv_docker( 'WORDPRESS_LOGGED_IN_KEY',    'put your unique phrase here' ) );
define( 'NONCE_KEY',        getenv_docker( 'WORDPRESS_NONCE_KEY',        'put your unique phrase here' ) );
define( 'AUTH_SALT',        getenv_docker( 'WORDPRESS_AUTH_SALT',        'put your unique phrase here' ) );
define( 'SECURE_AUTH_SALT', getenv_docker( 'WORDPRESS_SECURE_AUTH_SALT', 'put your unique phrase here' ) );
define( 'LOGGED_IN_SALT',   getenv_docker( 'WORDPRESS_LOGGED_IN_SALT',   'put your unique phrase here' ) );
define( 'NONCE_SALT',       getenv_docker( 'WORDPRESS_NONCE_SALT',       'put your unique phrase here' ) );

/** Database table prefix */
$table_prefix = getenv_docker( 'WORDPRESS_TABLE_PREFIX', 'wp_' );

/** Debugging mode */
define( 'WP_DEBUG', ! ! getenv_docker( 'WORDPRESS_DEBUG', '' ) );

/* Add any custom values between this line and the "stop editing" line. */

// Behind a reverse proxy that terminates TLS
if ( isset( $_SERVER['HTTP_X_FORWARDED_PROTO'] ) && strpos( $_SERVER['HTTP_X_FORWARDED_PROTO'], 'https' ) !== false ) {
	$_SERVER['HTTPS'] = 'on';
}

$configExtra = getenv_docker( 'WORDPRESS_CONFIG_EXTRA', '' );
if ( $configExtra ) {
	eval( $configExtra );
}

/* That's all, stop editing! Happy publishing. */

/** Absolute path to the WordPress directory. */
if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}

/** Sets up WordPress vars and included files. */
require_once ABSPATH . 'wp-settings.php';
EOF

cat > "$F/htaccess" <<'EOF'
# BEGIN WordPress

RewriteEngine On
RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]
RewriteBase /
RewriteRule ^index\.php$ - [L]
RewriteCond %{REQUEST_FILENAME} !-f
RewriteCond %{REQUEST_FILENAME} !-d
RewriteRule . /index.php [L]

# END WordPress
EOF

cat > "$F/docker-php.conf" <<'EOF'
# PHP files go to PHP, and index.php comes before index.html (as in the php:*-apache images)
<FilesMatch \.php$>
	SetHandler application/x-httpd-php
</FilesMatch>

DirectoryIndex disabled
DirectoryIndex index.php index.html

<Directory /var/www/>
	Options -Indexes
	AllowOverride All
</Directory>
EOF

cat > "$F/remoteip.conf" <<'EOF'
# The client address from X-Forwarded-For when the request comes through a private-range proxy
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 10.0.0.0/8
RemoteIPInternalProxy 172.16.0.0/12
RemoteIPInternalProxy 192.168.0.0/16
RemoteIPInternalProxy 169.254.0.0/16
RemoteIPInternalProxy 127.0.0.0/8
EOF

cat > "$F/opcache-recommended.ini" <<'EOF'
opcache.memory_consumption=128
opcache.interned_strings_buffer=8
opcache.max_accelerated_files=4000
opcache.revalidate_freq=2
EOF

cat > "$F/error-logging.ini" <<'EOF'
error_reporting = E_ERROR | E_WARNING | E_PARSE | E_CORE_ERROR | E_CORE_WARNING | E_COMPILE_ERROR | E_COMPILE_WARNING | E_RECOVERABLE_ERROR
display_errors = Off
display_startup_errors = Off
log_errors = On
error_log = /dev/stderr
log_errors_max_len = 1024
ignore_repeated_errors = On
ignore_repeated_source = Off
html_errors = Off
EOF

# The customize hook (runs on the host, as root, with the rootfs as $1).
cat > "$WORK/customize.sh" <<'EOF'
#!/bin/bash
set -Eeuo pipefail
R=$1 HOSTCFG=$2 F=$3 OUT=$4 PHPV=$5
trap 'echo "customize.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
inr() { chroot "$R" "$@"; }

# the host's CAs and apt settings (as every provision.sh stand-in has them)
mkdir -p "$R/etc/ssl/certs" "$R/usr/local/share/ca-certificates"
cp "$HOSTCFG/ca-certificates.crt" "$R/etc/ssl/certs/ca-certificates.crt"
cp -r "$HOSTCFG/ca-local/." "$R/usr/local/share/ca-certificates/"
for f in "$HOSTCFG"/apt/*; do [ -f "$f" ] && cp "$f" "$R/etc/apt/apt.conf.d/$(basename "$f" .conf)"; done

# 1. WordPress as one plain tree under /usr/src/wordpress. Debian's package spreads it over
#    /usr/share/wordpress (with symlinks into libjs-*, php-getid3, /etc/wordpress and the CA
#    bundle), /usr/share/wordpress/wp-content (akismet, the wordpress-theme-* packages) and
#    /var/lib/wordpress/wp-content; cp -L inside the rootfs resolves every link.
[ -f "$R/usr/share/wordpress/wp-includes/version.php" ] || { echo "customize.sh: wordpress is not installed" >&2; exit 1; }
rm -rf "$R/usr/src/wordpress"; mkdir -p "$R/usr/src"
inr cp -RL --preserve=mode,timestamps /usr/share/wordpress /usr/src/wordpress
W=$R/usr/src/wordpress
rm -f "$W/.htaccess" "$W/wp-config.php"           # Debian's: all comments / /etc/wordpress lookup
cp "$F/htaccess" "$W/.htaccess"
cp "$F/wp-config-docker.php" "$W/wp-config-docker.php"
for d in "$W/wp-content" "$W/wp-content/plugins" "$W/wp-content/themes"; do
  mkdir -p "$d"; [ -e "$d/index.php" ] || printf '<?php\n// Silence is golden.\n' > "$d/index.php"
done
# Debian's install.php stores two undefined variables as upload_path/upload_url_path (a PHP
# warning on every install); the values are empty either way: drop those lines.
sed -i '/Setup upload directories for Debian #430781/,+2d' "$W/wp-admin/install.php"
if find "$W" -type l | grep -q .; then echo "customize.sh: symlinks left in /usr/src/wordpress:" >&2; find "$W" -type l >&2; exit 1; fi
sed -n "s/^\$wp_version = '\([^']*\)';.*/\1/p" "$W/wp-includes/version.php" > "$OUT/wordpress.version"
[ -s "$OUT/wordpress.version" ] || { echo "customize.sh: no \$wp_version in version.php" >&2; exit 1; }
chown -R 33:33 "$W"

# 2. Debian's wordpress packages and what only they needed (mariadb-client, libjs-*, getid3) go.
inr env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q wordpress wordpress-theme-twentytwentyfive \
  wordpress-theme-twentytwentyfour wordpress-theme-twentytwentythree > "$OUT/purge.log" 2>&1
inr env DEBIAN_FRONTEND=noninteractive apt-get autoremove --purge -y -q >> "$OUT/purge.log" 2>&1
rm -rf "$R/var/lib/wordpress" "$R/etc/wordpress" "$R/usr/share/wordpress"

# 3. Apache as in the php:*-apache images: envvars overridable, run/lock/log dirs for any uid,
#    logs to stdout/stderr, mpm_prefork + mod_php, docker-php.conf, rewrite/expires/remoteip,
#    %a instead of %h in the log formats; the docroot empty and open for any uid.
E=$R/etc/apache2/envvars
sed -ri 's/^export ([^=]+)=(.*)$/: ${\1:=\2}\nexport \1/' "$E"
eval "$(inr bash -c '. /etc/apache2/envvars; declare -p APACHE_RUN_USER APACHE_RUN_GROUP APACHE_LOCK_DIR APACHE_RUN_DIR APACHE_LOG_DIR')"
for d in "$APACHE_LOCK_DIR" "$APACHE_RUN_DIR" "$APACHE_LOG_DIR" "$APACHE_RUN_DIR/socks"; do
  inr rm -rf "$d"; inr mkdir -p "$d"; inr chown "$APACHE_RUN_USER:$APACHE_RUN_GROUP" "$d"; inr chmod 1777 "$d"
done
inr ln -sfT /dev/stderr "$APACHE_LOG_DIR/error.log"
inr ln -sfT /dev/stdout "$APACHE_LOG_DIR/access.log"
inr ln -sfT /dev/stdout "$APACHE_LOG_DIR/other_vhosts_access.log"
inr chown -R --no-dereference "$APACHE_RUN_USER:$APACHE_RUN_GROUP" "$APACHE_LOG_DIR"
cp "$F/docker-php.conf" "$F/remoteip.conf" "$R/etc/apache2/conf-available/"
inr a2dismod -q -f mpm_event >/dev/null 2>&1 || true
inr a2enmod -q mpm_prefork "php$PHPV" rewrite expires remoteip >/dev/null
inr a2enconf -q docker-php remoteip >/dev/null
find "$R/etc/apache2" -type f -name '*.conf' -exec sed -ri 's/([[:space:]]*LogFormat[[:space:]]+"[^"]*)%h([^"]*")/\1%a\2/g' '{}' +
rm -rf "$R/var/www/html"; mkdir -p "$R/var/www/html"
chown 33:33 "$R/var/www/html"; chmod 1777 "$R/var/www/html"
# wp-content and its first-level directories pre-created in the docroot (so a bind mount of,
# say, wp-content/themes gets www-data's ownership), as the official image does
for d in "$W"/wp-content/*/ cache; do
  d=$(basename "${d%/}"); mkdir -p "$R/var/www/html/wp-content/$d"
done
chown -R 33:33 "$R/var/www/html/wp-content"; chmod -R 1777 "$R/var/www/html/wp-content"

# 4. PHP as in the official image: no php.ini (PHP's built-in defaults: expose_php On, so
#    X-Powered-By; variables_order EGPCS; no output buffering...), the extensions from Debian's
#    conf.d, then /usr/local/etc/php/conf.d/*.ini (PHP_INI_SCAN_DIR=:...), and a php.ini that a
#    derived image puts into /usr/local/etc/php (PHPRC) is the one that is read.
rm -f "$R/etc/php/$PHPV/apache2/php.ini" "$R/etc/php/$PHPV/cli/php.ini"
mkdir -p "$R/usr/local/etc/php/conf.d"
cp "$F/opcache-recommended.ini" "$F/error-logging.ini" "$R/usr/local/etc/php/conf.d/"
for v in production development; do
  [ -f "$R/usr/lib/php/$PHPV/php.ini-$v" ] && cp "$R/usr/lib/php/$PHPV/php.ini-$v" "$R/usr/local/etc/php/"
done

# 5. the entrypoint and apache2-foreground
install -m 0755 "$F/docker-entrypoint.sh" "$F/apache2-foreground" "$R/usr/local/bin/"
ln -sfT docker-entrypoint.sh "$R/usr/local/bin/docker-ensure-installed.sh"

inr dpkg-query -W -f='${Version}' "php$PHPV-common" | sed 's/[-+~].*//' > "$OUT/php.version"
inr dpkg-query -W -f='${Version}' apache2 > "$OUT/apache.version"
if inr dpkg-query -W wordpress >/dev/null 2>&1 && inr dpkg-query -W -f='${Status}' wordpress | grep -q installed; then
  echo "customize.sh: the wordpress package is still installed" >&2; exit 1
fi
rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/cache/apt/archives/*.deb
EOF
chmod 0755 "$WORK/customize.sh"
for f in "$WORK/customize.sh" "$F/docker-entrypoint.sh" "$F/apache2-foreground"; do bash -n "$f" || die "syntax error in $f"; done
step "files"

# ---------------------------------------------------------------------------------------------
# rootfs (mmdebstrap trixie, minbase, docs stripped as in Debian's slim images)
# ---------------------------------------------------------------------------------------------
PKGS=(apache2 "libapache2-mod-php$PHPV" "php$PHPV-cli" "php$PHPV-opcache"
  "php$PHPV-mysql" "php$PHPV-gd" "php$PHPV-intl" "php$PHPV-zip" "php$PHPV-curl" "php$PHPV-mbstring"
  "php$PHPV-xml" "php$PHPV-bcmath" "php$PHPV-imagick" "php$PHPV-sqlite3"
  wordpress wordpress-theme-twentytwentyfive wordpress-theme-twentytwentyfour wordpress-theme-twentytwentythree
  ca-certificates curl xz-utils)
SLIM_DPKG=(--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/groff/*'
  --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/lintian/*'
  --dpkgopt='path-exclude=/usr/share/linda/*' --dpkgopt='path-exclude=/usr/share/locale/*')
srcs=(); for f in "$HOSTCFG"/sources/*; do srcs+=("$f"); done
aptopts=(); for f in "$HOSTCFG"/apt/*; do if [ -f "$f" ]; then aptopts+=("--aptopt=$f"); fi; done
OUT=$WORK/out; rm -rf "$OUT"; mkdir -p "$OUT"
TAR=$WORK/rootfs.tar; rm -f "$TAR"
log "mmdebstrap $WP_SUITE: ${PKGS[*]}"
if ! mmdebstrap --quiet --variant=minbase --format=tar "${aptopts[@]}" "${SLIM_DPKG[@]}" \
      --include="$(IFS=,; echo "${PKGS[*]}")" \
      --customize-hook="$WORK/customize.sh \"\$1\" '$HOSTCFG' '$F' '$OUT' '$PHPV'" \
      "$WP_SUITE" "$TAR" "${srcs[@]}" > "$TAR.log" 2>&1; then
  tail -40 "$TAR.log" >&2; die "mmdebstrap $WP_SUITE failed (log: $TAR.log)"
fi
if grep -E '^(E:|W: (Failed to fetch|Some index))' "$TAR.log" >&2; then die "mmdebstrap: apt errors (log: $TAR.log)"; fi
[ -s "$TAR" ] || die "mmdebstrap produced no tarball"
WPVER=$(cat "$OUT/wordpress.version") PHPVER=$(cat "$OUT/php.version") APVER=$(cat "$OUT/apache.version")
log "rootfs: WordPress $WPVER, PHP $PHPVER, Apache $APVER ($(du -m "$TAR" | cut -f1) MB tar)"
step "mmdebstrap rootfs"

# ---------------------------------------------------------------------------------------------
# import and tag
# ---------------------------------------------------------------------------------------------
podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV PHP_INI_DIR=/usr/local/etc/php' \
  --change 'ENV PHPRC=/usr/local/etc/php' \
  --change 'ENV PHP_INI_SCAN_DIR=:/usr/local/etc/php/conf.d' \
  --change "ENV PHP_VERSION=$PHPVER" \
  --change 'ENV APACHE_CONFDIR=/etc/apache2' \
  --change 'ENV APACHE_ENVVARS=/etc/apache2/envvars' \
  --change "LABEL $LABEL=$HASH" \
  --change "LABEL org.opencontainers.image.version=$WPVER" \
  --change "LABEL io.pilotfish.standin.versions=wordpress-$WPVER php-$PHPVER apache2-$APVER debian-$WP_SUITE" \
  --change 'WORKDIR /var/www/html' \
  --change 'VOLUME /var/www/html' \
  --change 'EXPOSE 80' \
  --change 'STOPSIGNAL SIGWINCH' \
  --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
  --change 'CMD ["apache2-foreground"]' \
  "$TAR" "$IMAGE" > /dev/null || die "podman import failed"
rm -f "$TAR"
for t in "${TAGS[@]}"; do podman tag "$IMAGE" "$t"; done
step "podman import + tag"

# ---------------------------------------------------------------------------------------------
# check inside a container: PHP extensions, Apache modules and configuration
# ---------------------------------------------------------------------------------------------
fail_check() { echo "$1" >&2; podman rmi -f "$IMAGE" "${TAGS[@]}" >/dev/null 2>&1 || true; die "$2"; }
out=$(podman run --rm --pull=never --entrypoint bash "$IMAGE" -c '
  set -e
  php -m
  echo "--- ini"; php -r "echo ini_get(\"opcache.max_accelerated_files\"), \" \", ini_get(\"error_log\"), \" expose=\", ini_get(\"expose_php\"), \"\n\";"
  php --ini | grep "^Loaded Configuration File"
  echo "--- apache"; apache2ctl -t 2>&1; apache2ctl -M 2>/dev/null
  echo "--- tree"; test -f /usr/src/wordpress/wp-includes/version.php && test -f /usr/src/wordpress/wp-config-docker.php && test -f /usr/src/wordpress/.htaccess && echo wp-ok
  find /usr/src/wordpress -type l | head -3
  stat -c "%U:%G %a" /var/www/html /usr/src/wordpress
  ls /usr/src/wordpress/wp-content/themes /usr/src/wordpress/wp-content/plugins | tr "\n" " "; echo
  ! dpkg-query -W -f="\${Status}\n" wordpress 2>/dev/null | grep -q "install ok"' 2>&1) \
  || fail_check "$out" "the check container failed"
for m in mysqli gd intl zip curl mbstring dom xml exif bcmath imagick sodium pdo_sqlite sqlite3 'Zend OPcache'; do
  grep -qx "$m" <<<"$out" || fail_check "$out" "PHP extension $m is missing"
done
grep -q '^4000 /dev/stderr expose=1$' <<<"$out" || fail_check "$out" "the /usr/local/etc/php/conf.d settings or PHP's defaults are not in effect"
grep -q '^Loaded Configuration File: *(none)' <<<"$out" || fail_check "$out" "PHP reads a php.ini (the official image has none)"
grep -q 'Syntax OK' <<<"$out" || fail_check "$out" "apache2ctl -t failed"
for m in php_module mpm_prefork_module rewrite_module expires_module remoteip_module; do
  grep -q " $m " <<<"$out" || fail_check "$out" "Apache module $m is not loaded"
done
grep -q '^wp-ok$' <<<"$out" || fail_check "$out" "/usr/src/wordpress is incomplete"
grep -q '^www-data:www-data 1777$' <<<"$out" || fail_check "$out" "/var/www/html is not www-data 1777"
grep -q 'twentytwentyfive' <<<"$out" && grep -q 'akismet' <<<"$out" || fail_check "$out" "themes or akismet are missing"
step "check container"

size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
log "built $IMAGE (+ ${TAGS[*]}): WordPress $WPVER, PHP $PHPVER, Apache $APVER, $((size / 1000000)) MB"
printf '%s\n' "${TIMINGS[@]}" >&2
printf '%-34s %4ss\n' total "$(( $(date +%s) - T0 ))" >&2
