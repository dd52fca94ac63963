#!/bin/bash
# The health check: the server answers a query (a hung server fails it, and the election's
# health gate then gives up the primary role).
. "$(dirname "$0")/lib.sh"
sql -e 'SELECT 1' > /dev/null
