#!/bin/sh
# The wordpress job: link the uploads (restored by Pilotfish into $WP_UPLOADS before any job
# starts) into the document root, then hand over to the official image's entrypoint, which
# copies WordPress into the document root on a first start and execs Apache.
set -eu
uploads=${WP_UPLOADS:-/var/lib/wordpress/uploads}
content=${WP_ROOT:-/var/www/html}/wp-content
# Not in the image (a restore could not rename an image layer's directory): on a first start,
# with nothing restored, it is made here for Apache's user.
[ -d "$uploads" ] || install -d -o "${APACHE_RUN_USER:-www-data}" -g "${APACHE_RUN_GROUP:-www-data}" "$uploads"
mkdir -p "$content"
if [ ! -L "$content/uploads" ]; then
  # A real directory here holds uploads that are not backed up: refuse to hide them.
  [ ! -e "$content/uploads" ] || rmdir "$content/uploads" || {
    echo "start.sh: $content/uploads is a non-empty directory; move its files to $uploads" >&2
    exit 1
  }
  ln -s "$uploads" "$content/uploads"
fi
exec docker-entrypoint.sh "$@"
