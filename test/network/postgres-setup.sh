#!/usr/bin/env bash
# Idempotent PostgreSQL for the AppView tests (test/network): installs Debian's server if missing,
# starts the cluster, and creates role bsky/bsky and database bsky on 127.0.0.1:5432.
# Run as root (CI and the dev machines are root). Usage: bash test/network/postgres-setup.sh
set -euo pipefail

if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
fi

version="$(ls /usr/lib/postgresql | sort -n | tail -1)"
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main"' | grep -q .; then
  pg_createcluster "$version" main
fi
# Debian's default listen_addresses is 'localhost': loopback only, as the tests need.
pg_ctlcluster "$version" main status >/dev/null 2>&1 || pg_ctlcluster "$version" main start

psql_root() { (cd / && su postgres -c "psql -v ON_ERROR_STOP=1 -qtAX $*"); }
for _ in $(seq 1 30); do psql_root "-c 'select 1'" >/dev/null 2>&1 && break; sleep 1; done

if [ "$(psql_root "-c \"select 1 from pg_roles where rolname = 'bsky'\"")" != "1" ]; then
  psql_root "-c \"create role bsky login password 'bsky'\""
fi
if [ "$(psql_root "-c \"select 1 from pg_database where datname = 'bsky'\"")" != "1" ]; then
  psql_root "-c 'create database bsky owner bsky'"
fi
echo "PostgreSQL $version ready: postgresql://bsky:bsky@127.0.0.1:5432/bsky"
