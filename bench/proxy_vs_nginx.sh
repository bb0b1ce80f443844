#!/usr/bin/env bash
# Side by side: wrk through slipway's proxy and through Debian's nginx, both in front of the same
# two demo-app tasks. Prints req/s and p99 for each and the ratio slipway/nginx.
source "$(dirname "$0")/common.sh"
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
deploy v1
export AWS_SHARED_CREDENTIALS_FILE="$SLIPWAY_DATA_DIR/credentials" AWS_PROFILE=slipway-local AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null
TG=$(/usr/bin/aws --endpoint-url "http://127.0.0.1:$API_PORT" elbv2 describe-target-groups --names demo-dev-web --query 'TargetGroups[0].TargetGroupArn' --output text)
PORTS=$(/usr/bin/aws --endpoint-url "http://127.0.0.1:$API_PORT" elbv2 describe-target-health --target-group-arn "$TG" --query 'TargetHealthDescriptions[].Target.Port' --output text)
free_port NGINX_PORT
{
  echo "worker_processes auto; pid $WORK/nginx.pid; error_log $WORK/nginx-error.log; daemon off;"
  echo "events { worker_connections 4096; }"
  echo "http { access_log off; upstream demo { keepalive 64;"
  for p in $PORTS; do echo "  server 127.0.0.1:$p;"; done
  echo "} server { listen 127.0.0.1:$NGINX_PORT; location / { proxy_pass http://demo; proxy_http_version 1.1;"
  echo "  proxy_set_header Connection \"\"; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; } } }"
} > "$WORK/nginx.conf"
nginx -c "$WORK/nginx.conf" & NGINX_PID=$!
sleep 1
run() { wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$1" > "$WORK/$2.txt"; }
rps() { awk '/Requests\/sec/ {print $2}' "$WORK/$1.txt"; }
p99() { awk '$1=="99%" {print $2}' "$WORK/$1.txt"; }
for round in 1 2; do run "http://127.0.0.1:$LISTENER_PORT/" slipway$round; run "http://127.0.0.1:$NGINX_PORT/" nginx$round; done
for round in 1 2; do
  printf 'round %d: slipway %s req/s (p99 %s)  nginx %s req/s (p99 %s)  ratio %.2f\n' "$round" \
    "$(rps slipway$round)" "$(p99 slipway$round)" "$(rps nginx$round)" "$(p99 nginx$round)" \
    "$(echo "$(rps slipway$round) / $(rps nginx$round)" | bc -l)"
done
