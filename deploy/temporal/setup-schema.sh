#!/bin/sh
# Temporal's schema, set up and upgraded by the official admin tools (temporalio/admin-tools).
# Idempotent: a database that already exists is only brought up to the newest schema version,
# so this job runs on every `docker compose up` and after every Temporal server upgrade.
set -eu
: "${SQL_HOST:?}" "${SQL_USER:?}" "${SQL_PASSWORD:?}"
SQL_PORT="${SQL_PORT:-5432}"
SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12

tool() {
  temporal-sql-tool --plugin postgres12 --ep "$SQL_HOST" -p "$SQL_PORT" -u "$SQL_USER" "$@"
}

for pair in "temporal:temporal" "temporal_visibility:visibility"; do
  db="${pair%%:*}"
  schema_dir="$SCHEMA_ROOT/${pair##*:}/versioned"
  if tool --db "$db" create; then
    echo "created database $db"
    tool --db "$db" setup-schema -v 0.0
  else
    echo "database $db exists; upgrading its schema only"
  fi
  tool --db "$db" update-schema -d "$schema_dir"
done
echo "temporal schema is current"
