#!/usr/bin/env bash
# Make sure RabbitMQ and PostgreSQL answer on this machine. A server that is installed but not
# running is started; with neither installed nor reachable, tests fall back to testcontainers.
set -u
wait_for_port() {  # host port seconds
  local deadline=$((SECONDS + $3))
  while (( SECONDS < deadline )); do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && { exec 3>&-; return 0; }
    sleep 0.5
  done
  return 1
}

amqp_host=127.0.0.1; amqp_port=5672
db_host=127.0.0.1; db_port=5432

if ! wait_for_port $amqp_host $amqp_port 1; then
  if command -v rabbitmq-server >/dev/null 2>&1; then
    echo "starting the local RabbitMQ"
    rabbitmq-server -detached >/dev/null 2>&1 || true
    wait_for_port $amqp_host $amqp_port 90 || echo "RabbitMQ did not come up on $amqp_port"
  else
    echo "no RabbitMQ on $amqp_port and none installed: tests will use testcontainers"
  fi
fi

if ! wait_for_port $db_host $db_port 1; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "starting the local PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start >/dev/null 2>&1 || true
    wait_for_port $db_host $db_port 60 || echo "PostgreSQL did not come up on $db_port"
  else
    echo "no PostgreSQL on $db_port and none installed: tests will use testcontainers"
  fi
fi
exit 0
