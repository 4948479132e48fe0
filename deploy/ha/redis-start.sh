#!/bin/sh
# Start this host's Redis. If the Sentinels name another node as the primary (a failover
# happened while this one was down), start as its replica at once: a node that came back
# as a primary of its stale data could be promoted again by a Sentinel that judges the
# new primary down before converting this one, and the new primary's writes would be
# discarded in the resync (docs/RELIABILITY.md, "Failover (Redis Sentinel)").
#
#   redis-start.sh CONF MY_HOST MY_PORT       (supervisord: the `redis` program)
#   HERALD_SENTINELS="host-a:26379 host-b:26379 host-c:26379" (the default)
set -eu
conf=$1 me_host=$2 me_port=$3
primary=""
for sentinel in ${HERALD_SENTINELS:-host-a:26379 host-b:26379 host-c:26379}; do
  primary=$(redis-cli -h "${sentinel%:*}" -p "${sentinel##*:}" --raw \
    sentinel get-master-addr-by-name herald 2>/dev/null | paste -sd ' ' -) || primary=""
  case "$primary" in *" "[0-9]*) break ;; *) primary="" ;; esac
done
case "$primary" in
  "") exec redis-server "$conf" --port "$me_port" ;;  # no Sentinel answers: as configured
  "$me_host $me_port") exec redis-server "$conf" --port "$me_port" --replicaof no one ;;
  *) exec redis-server "$conf" --port "$me_port" --replicaof ${primary} ;;
esac
