#!/usr/bin/env bash
# Start the named loopback services if they are down, with the machine's documented
# commands, and wait until each accepts connections. Usage: services.sh postgres redis ...
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  case "$1" in
    postgres) pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start ;;
    redis) redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
             --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log ;;
    rabbitmq) rabbitmq-server -detached ;;
    mosquitto) mosquitto -d -c /etc/mosquitto/mosquitto.conf ;;
    nats) start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
            -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log ;;
    mariadb) start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd ;;
    *) echo "services.sh: unknown service '$1'" >&2; return 2 ;;
  esac
}

declare -A PORTS=([postgres]=5432 [redis]=6379 [rabbitmq]=5672 [mosquitto]=1883 [nats]=4222
                  [mariadb]=3306)

for name in "$@"; do
  port=${PORTS[$name]:?unknown service $name}
  if port_open "$port"; then
    echo "services: $name is up on 127.0.0.1:$port"
    continue
  fi
  echo "services: starting $name"
  if ! start "$name"; then
    echo "services: could not start $name; tests that need it will skip (or fail when CI=true)" >&2
    continue
  fi
  for _ in $(seq 1 60); do port_open "$port" && break; sleep 0.5; done
  if port_open "$port"; then echo "services: $name is up on 127.0.0.1:$port"
  else echo "services: $name did not come up on port $port" >&2; fi
done
