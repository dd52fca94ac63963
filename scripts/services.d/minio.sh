# MinIO: S3 on $BIND_ADDR with data under DIR/minio/data and one bucket.
# Sourced by scripts/services.
# shellcheck shell=bash

PF_S3_ACCESS_KEY=pilotfish
PF_S3_SECRET_KEY=pilotfish-secret
PF_S3_REGION=us-east-1
PF_S3_BUCKET=pilotfish-test

minio_alloc() {
  local ports; mapfile -t ports < <(free_ports 2)
  state_set MINIO_PORT "${ports[0]}"
  state_set MINIO_CONSOLE_PORT "${ports[1]}"
}

minio_start() {
  local bin; bin="$(require_bin minio "$MINIO_VERSION")"
  state_load
  mkdir -p "$PF_DIR/minio/data"
  spawn minio env HOME="$PF_DIR/minio" \
    MINIO_ROOT_USER="$PF_S3_ACCESS_KEY" MINIO_ROOT_PASSWORD="$PF_S3_SECRET_KEY" \
    MINIO_REGION="$PF_S3_REGION" MINIO_UPDATE=off MINIO_BROWSER=off \
    "$bin" server --quiet --address "$BIND_ADDR:$MINIO_PORT" \
    --console-address "$BIND_ADDR:$MINIO_CONSOLE_PORT" "$PF_DIR/minio/data"
}

minio_ready() {
  state_load
  local addr="http://$BIND_ADDR:$MINIO_PORT"
  wait_until 60 "minio to be ready" http_ok "$addr/minio/health/ready" || return 1
  # Creating an existing bucket is fine: the data dir survives restarts.
  env AWS_ENDPOINT_URL_S3="$addr" AWS_ACCESS_KEY_ID="$PF_S3_ACCESS_KEY" \
    AWS_SECRET_ACCESS_KEY="$PF_S3_SECRET_KEY" AWS_REGION="$PF_S3_REGION" \
    node --no-warnings "$PF_SERVICES_HOME/s3-bucket.mjs" "$PF_S3_BUCKET"
}

minio_exports() {
  printf 'AWS_ENDPOINT_URL_S3=http://%s:%s\n' "$BIND_ADDR" "$MINIO_PORT"
  printf 'AWS_ACCESS_KEY_ID=%s\n' "$PF_S3_ACCESS_KEY"
  printf 'AWS_SECRET_ACCESS_KEY=%s\n' "$PF_S3_SECRET_KEY"
  printf 'AWS_REGION=%s\n' "$PF_S3_REGION"
  printf 'PILOTFISH_TEST_BUCKET=%s\n' "$PF_S3_BUCKET"
}
