#!/usr/bin/env bash
# Starts a local PostgreSQL (Debian's packages, installed if missing) for the test suite's
# second database, and prints its URL. Idempotent: an installed or running server is reused.
#   export TEST_DATABASE_URL="$(scripts/start-postgres.sh)"
set -euo pipefail

if ! compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1 " " $2}' | grep -qx "$version main"; then
  pg_createcluster "$version" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $4}' | grep -q online; then
  pg_ctlcluster "$version" main start >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')
for _ in $(seq 1 50); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.2
done
# Password login over TCP, as the service connects (Debian's default allows md5/scram on 127.0.0.1).
runuser -u postgres -- psql -q -p "$port" -c "ALTER USER postgres PASSWORD 'postgres'" >&2
echo "postgres://postgres:postgres@127.0.0.1:${port}/postgres"
