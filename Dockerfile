# syntax=docker/dockerfile:1
# The Pilotfish distribution image: Node 24 (the official slim image) with Pilotfish in
# /opt/pilotfish (the Rolldown bundle, the reaper's addon, and koffi and lz4-napi) and
# `pilotfish` on the PATH. Every example image copies Pilotfish, and Node where its base has
# none, from this one image:
#
#   docker build -t pilotfish .                     # or: scripts/images build pilotfish
#   FROM pilotfish AS pilotfish                     # in an application's Dockerfile, then
#   COPY --from=pilotfish /opt/pilotfish /opt/pilotfish
#
# Base images are build arguments; the defaults are today's public images.
ARG BUILD_IMAGE=node:24-bookworm
ARG BASE_IMAGE=node:24-bookworm-slim

# --- build: the bundle and the native modules it leaves external ------------------------------
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# npm can exit 0 after a failed fetch: check that what it installs is there.
RUN npm ci --no-audit --no-fund \
 && test -f node_modules/rolldown/package.json \
 && test -n "$(ls node_modules/@koromix/ | grep '^koffi-linux-')" \
 && test -n "$(ls node_modules/@antoniomuso/ | grep '^lz4-napi-linux-')"
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs scripts/
COPY src src
# The launcher gives Node one V8 flag: Node 24 lets the young generation grow far larger than
# Node 22 did, which cost a 100,000-file backup 395 instead of 250 MiB of peak RSS; 16 MiB
# semi-spaces (Node 22's size) bring it back to 265 MiB, and faster (bench/backup/README.md).
# The build runs under the same flag: the code cache it fills is kept per set of Node flags
# (src/cli/launcher.cts). The build image has a C compiler: the reaper's addon is built too.
RUN node --max-semi-space-size=16 scripts/build.mjs \
 && test -f dist/native/pid1.node \
 && mkdir -p /opt/pilotfish/node_modules/@koromix /opt/pilotfish/node_modules/@antoniomuso \
 && cp -r dist package.json /opt/pilotfish/ \
 && rm -f /opt/pilotfish/dist/cli/*.map \
 && cp -r node_modules/koffi /opt/pilotfish/node_modules/ \
 && cp -r node_modules/@koromix/koffi-linux-* /opt/pilotfish/node_modules/@koromix/ \
 && cp -r node_modules/lz4-napi /opt/pilotfish/node_modules/ \
 && cp -r node_modules/@antoniomuso/lz4-napi-linux-* /opt/pilotfish/node_modules/@antoniomuso/ \
 && printf '#!/bin/sh\nexec node --max-semi-space-size=16 /opt/pilotfish/dist/cli/main.js "$@"\n' > /opt/pilotfish/pilotfish \
 && chmod 0755 /opt/pilotfish/pilotfish

# --- the distribution image ---------------------------------------------------------------------
FROM ${BASE_IMAGE}
COPY --from=build /opt/pilotfish /opt/pilotfish
RUN ln -s /opt/pilotfish/pilotfish /usr/local/bin/pilotfish \
 && pilotfish version
LABEL org.opencontainers.image.title="pilotfish" \
      org.opencontainers.image.description="A PID-1 supervisor for containers: the ENTRYPOINT of an application image" \
      org.opencontainers.image.licenses="MPL-2.0"
# An application image adds its config (/etc/pilotfish.yaml or $PILOTFISH_CONFIG), its jobs
# and a HEALTHCHECK (`pilotfish health -q`), and keeps this entrypoint.
STOPSIGNAL SIGTERM
ENTRYPOINT ["pilotfish", "run"]
