#!/usr/bin/env bash
# The system parts the test suite needs, installed only when missing (Debian; root or sudo).
# The tests never install anything themselves: they use what this script put in place and,
# under CI=true, fail (not skip) when a part is missing.
#
#   java (default-jre-headless)  the Spark tests (PySpark local mode, and the standalone
#                                cluster of tests/engines/test_spark_cluster.py)
#   setpriv (util-linux)         that cluster's workers, when run as root, are started
#                                without the capabilities that bypass file permissions
#   chromium                     the browser tests (Playwright through executable_path)
#   postgresql + user pgtest     only if no server answers on 127.0.0.1:5432: the tests then
#                                start their own server, as pgtest (initdb refuses root)
set -euo pipefail

PG_SYSTEM_USER=pgtest

need=()
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
pg_answers() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p 5432
  else
    (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
  fi
}
local_pg=0
# OPENSCORE_TEST_POSTGRES=local makes the tests start their own server even beside one
if [ "${OPENSCORE_TEST_POSTGRES:-auto}" = local ] || ! pg_answers; then
  local_pg=1
  command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
    || need+=(postgresql)
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq || true
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The tests' own PostgreSQL runs as an unprivileged user when they run as root. Some tests
# always start one of their own (tests/reliability/test_postgres_restart.py restarts it).
if [ "$(id -u)" -eq 0 ] && ! id "$PG_SYSTEM_USER" >/dev/null 2>&1; then
  echo "creating the system user $PG_SYSTEM_USER (for the tests' own PostgreSQL server)"
  useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$PG_SYSTEM_USER"
fi
