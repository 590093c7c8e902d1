#!/usr/bin/env bash
# `make compose-check`: the Docker path as a user takes it. `make up` (the image's real build and runtime
# stages), both health checks healthy, the README's first bet and its result, the worker's
# "Event settled" line in `docker compose logs worker`, then `make down`. Fails loudly at the first step
# that does not hold, with the services' logs. Needs a Docker engine and its compose; on a machine
# that reaches no image registry, build local base images first (see README, "Docker").
set -euo pipefail
cd "$(dirname "$0")/.."

COMPOSE=${COMPOSE:-$(docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)}
PORT=${WEB_SERVER_PORT:-8080}
API="http://127.0.0.1:$PORT"
HEALTH_TIMEOUT_S=${HEALTH_TIMEOUT_S:-180}
EVENT="compose-check-$(date +%s)"

step() { printf '\n== %s\n' "$*"; }
fail() {
  printf '\ncompose-check FAILED: %s\n' "$*" >&2
  $COMPOSE ps >&2 || true
  $COMPOSE logs --tail=50 >&2 || true
  make --no-print-directory down >/dev/null 2>&1 || true
  exit 1
}

step "make up"
make --no-print-directory up || fail "make up"

step "health checks (up to ${HEALTH_TIMEOUT_S} s)"
deadline=$((SECONDS + HEALTH_TIMEOUT_S))
for service in api worker; do
  container=$($COMPOSE ps -q "$service")
  [ -n "$container" ] || fail "no container for $service"
  while :; do
    health=$(docker inspect --format '{{.State.Health.Status}}' "$container")
    [ "$health" = healthy ] && break
    [ "$health" = unhealthy ] && fail "$service is unhealthy"
    ((SECONDS < deadline)) || fail "$service still $health after ${HEALTH_TIMEOUT_S} s"
    sleep 2
  done
  echo "$service: $health"
done

step "the README's first bet and its result"
bet=$(curl -sS --fail-with-body -X POST "$API/bets" -H 'Content-Type: application/json' \
  -d "{\"event_id\": \"$EVENT\", \"amount\": 10.50}") || fail "POST /bets: $bet"
echo "POST /bets -> $bet"
id=$(printf '%s' "$bet" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
result=$(curl -sS --fail-with-body -X PUT "$API/events/$EVENT" -H 'Content-Type: application/json' \
  -d '{"status": "WIN"}') || fail "PUT /events/$EVENT: $result"
echo "PUT /events/$EVENT -> $result"

step "the worker's log"
deadline=$((SECONDS + 60))
until line=$($COMPOSE logs worker 2>&1 | grep "Event settled" | grep "event_id=$EVENT"); do
  ((SECONDS < deadline)) || fail "no 'Event settled' for $EVENT in the worker's log"
  sleep 1
done
echo "$line"
settled=$(curl -sS --fail-with-body "$API/bets/$id") || fail "GET /bets/$id: $settled"
echo "GET /bets/$id -> $settled"
printf '%s' "$settled" | grep -q '"status":"won"' || fail "the bet is not won"

step "make down"
make --no-print-directory down
printf '\ncompose-check passed\n'
