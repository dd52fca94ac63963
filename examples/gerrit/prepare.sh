#!/bin/bash
# The `prepare` job (as user gerrit), after Pilotfish's restore and before Gerrit starts:
# - `init --batch` makes a new site, or on a restored one installs the plugins and upgrades the
#   schema if needed (init is idempotent on an existing site);
# - the index is not backed up (it is derived from NoteDb, i.e. from the git repositories):
#   rebuild it when it is empty, which is the case in every new container.
set -euo pipefail
site=${GERRIT_SITE:-/var/gerrit}
java_opts=(--add-opens java.base/java.net=ALL-UNNAMED --add-opens java.base/java.lang.invoke=ALL-UNNAMED)
war=("$site/bin/gerrit.war")
reindex=0
[ -d "$site/git/All-Projects.git" ] || reindex=1
java "${java_opts[@]}" -jar "${war[@]}" init --batch --install-all-plugins --no-auto-start -d "$site"
[ -n "$(ls -A "$site/index" 2>/dev/null)" ] || reindex=1
if [ "$reindex" = 1 ]; then
  java "${java_opts[@]}" -jar "${war[@]}" reindex -d "$site"
fi
git config -f "$site/etc/gerrit.config" gerrit.canonicalWebUrl "${CANONICAL_WEB_URL:-http://localhost:8080/}"
