# Sourced by the test scripts: find PostgreSQL and Redis, export the variables the suites read, and
# decide what happens when a service is missing (under CI=true that is a failure, never a skip).
pg_up() { python3 - <<'PY' 2>/dev/null
import socket; s = socket.create_connection(("127.0.0.1", 5432), timeout=1); s.close()
PY
}
redis_up() { python3 - <<'PY' 2>/dev/null
import socket; s = socket.create_connection(("127.0.0.1", 6379), timeout=1); s.sendall(b"PING\r\n"); assert s.recv(16).startswith(b"+PONG"); s.close()
PY
}

SKIPPED=()
if pg_up; then
  export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
else
  unset DATABASE_URL
  SKIPPED+=("PostgreSQL runs (nothing answers on 127.0.0.1:5432): suites ran on SQLite only")
fi
if redis_up; then
  export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
else
  unset REDIS_URL
  SKIPPED+=("Redis runs (nothing answers on 127.0.0.1:6379): the job suite used the embedded filesystem broker and a database cache")
fi
if [ "${CI:-}" = "true" ] && [ ${#SKIPPED[@]} -gt 0 ]; then
  printf 'CI=true and a required service is unreachable:\n'; printf '  - %s\n' "${SKIPPED[@]}"
  exit 1
fi
