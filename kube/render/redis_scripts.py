"""The shell a database pod runs: its start script and its probes (POSIX sh, stock `redis` image).

They are text in the rendered ConfigMap and pod spec; tests run them for real against redis-server
processes on 127.0.0.1 (tests/kube/test_pod_scripts.py). Paths default to the pod's mounts and
can be pointed elsewhere with REDIS_CONF_DIR / REDIS_RUN_DIR / REDIS_DATA_DIR / POD_ADDRESS.
Every password comes from the environment, never from a command line: the pods log in as `REDIS_USER` with
`REDIS_PASSWORD` (exported as `REDISCLI_AUTH`, which redis-cli reads itself); the default user is on with the
password `REDISCLI_AUTH` holds at start, off when it is absent (defaultUser: false). Pods rendered before
`REDIS_PASSWORD` existed log in with `REDISCLI_AUTH` (as `REDIS_USER` where the default user was off).

Start-up guard (Redis docs, "Safety of replication when master has persistence turned off"): a
pod never starts as master while a peer has data. It replicates the master the cluster's sentinels
name (while they still name this pod and know a healthy replica, it waits for their failover
first); failing that, a peer that is master; failing that, when its own data directory is empty, it
waits (not listening) while a replica of its own holds data, until the sentinels promote one, or
else replicates the peer holding the most keys; only then (ordinal 0 at bootstrap, or the master the sentinels name)
does it start as master. With replica_ssl the sentinels and the replicas name a master by its TLS
port (REPLICATION_PORT): `is_me` knows both of this pod's addresses, and a replica links to
REPLICATION_PORT when set. A Redis Cluster node (sharded) back without data waits until a copy of its shard
has taken over (see the guard below), so it never serves its slots empty.
"""
from __future__ import annotations

# The probes and the preStop log in as the pods' own user (REDIS_USER, REDIS_PASSWORD); pods rendered before it
# existed have their login in REDISCLI_AUTH already. redis-cli reads REDISCLI_AUTH itself.
POD_LOGIN = 'export REDISCLI_AUTH="${REDIS_PASSWORD:-${REDISCLI_AUTH:-}}"\n'

REDIS_START = r"""set -eu
conf_dir="${REDIS_CONF_DIR:-/etc/redis}"
run_dir="${REDIS_RUN_DIR:-/run/redis}"
data_dir="${REDIS_DATA_DIR:-/data}"
me="${POD_ADDRESS:-$(hostname).$PEER_DOMAIN:$REDIS_PORT}"
umask 077
if [ -n "${REDIS_PASSWORD:-}" ]; then
  default="${REDISCLI_AUTH:-}"; export REDISCLI_AUTH="$REDIS_PASSWORD"
elif [ -n "${REDIS_USER:-}" ]; then default=""  # rendered before REDIS_PASSWORD: the default user off
else default="$REDISCLI_AUTH"                  # rendered before REDIS_PASSWORD: the default user's login
fi
# The pods' own user, defined as the control plane's ACL sync writes it (nothing to redo); the default user on
# with its password, or off from the start (defaultUser: false).
{
  if [ -n "${REDIS_USER:-}" ]; then
    printf 'masteruser "%s"\nuser %s reset on >%s ~* &* +@all\n' "$REDIS_USER" "$REDIS_USER" "$REDISCLI_AUTH"
  fi
  if [ -n "$default" ]; then printf 'user default reset on >%s ~* &* +@all\n' "$default"
  else printf 'user default off\n'; fi
  printf 'masterauth "%s"\n' "$REDISCLI_AUTH"
} > "$run_dir/auth.conf"
sed -e "s#{announce}#${me%:*}#" -e "s#{data_dir}#$data_dir#" -e "s#{run_dir}#$run_dir#" \
  -e "s#{conf_dir}#$conf_dir#" -e "s#{port}#$REDIS_PORT#" "$conf_dir/redis.conf" > "$run_dir/redis.conf"

ask() {  # ask HOST:PORT COMMAND... -> the reply without CRs (empty when the peer does not answer)
  addr=$1; shift
  timeout 3 redis-cli -h "${addr%:*}" -p "${addr##*:}" ${REDIS_USER:+--user "$REDIS_USER"} --no-auth-warning "$@" \
    2>/dev/null | tr -d '\r'
}
is_me() {  # is_me HOST:PORT: this pod, at its plain or its replication (TLS) port
  [ "$1" = "$me" ] || { [ -n "${REPLICATION_PORT:-}" ] && [ "$1" = "${me%:*}:$REPLICATION_PORT" ]; }
}
field() { printf '%s\n' "$1" | sed -n "s/^$2://p" | head -n 1; }
keys_of() { printf '%s\n' "$1" | sed -n 's/^db[0-9]*:keys=\([0-9]*\).*/\1/p' | awk '{n += $1} END {print n + 0}'; }
has_data() {
  [ -s "$data_dir/dump.rdb" ] || [ -s "$data_dir/appendonly.aof" ] \
    || [ -n "$(ls -A "$data_dir/appendonlydir" 2>/dev/null)" ]
}

sentinel() {  # sentinel SUBCOMMAND... as this database's own sentinel user
  timeout 3 redis-cli -h "$SENTINEL_HOST" -p "$SENTINEL_PORT" --user "$SENTINEL_USER" --no-auth-warning \
    sentinel "$@" 2>/dev/null | tr -d '\r' || true
}
named_master() {  # host:port the sentinels name master, or nothing
  reply=$(sentinel get-master-addr-by-name "$DB_NAME")
  port=$(printf '%s\n' "$reply" | sed -n 2p)
  case "$port" in ''|*[!0-9]*) ;; *) echo "$(printf '%s\n' "$reply" | sed -n 1p):$port" ;; esac
}
healthy_replica() {
  sentinel replicas "$DB_NAME" | awk 'prev == "flags" && $0 !~ /down|disconnected/ {n++} {prev = $0} END {exit !n}'
}

source=""
if [ "$SHARDED" = "no" ]; then
  named=$(named_master)
  # Still named master: it restarted (kill -9, OOM, pod deleted) before the sentinels noticed. Coming
  # back as master, empty or behind, would make its replica resync from it; so while they know a
  # healthy replica it waits for their failover, then replicates from the new master.
  while [ -n "$named" ] && is_me "$named" && healthy_replica; do
    echo "the sentinels still name $me master; waiting for them to fail over to a replica"
    sleep 1
    named=$(named_master)
  done
  if [ -n "$named" ] && ! is_me "$named"; then
    source="$named"
  else
    # Nobody else is named master: look at the peers before ever starting as one.
    deadline=$(( $(date +%s) + ${PEER_WAIT_SECONDS:-10} ))
    while :; do
      answered=0; richest=""; most=0; waiting=""
      for peer in $PEERS; do
        [ "$peer" = "$me" ] && continue
        info=$(ask "$peer" info)
        [ -n "$info" ] || continue
        answered=1
        if [ "$(field "$info" role)" = "master" ]; then source="$peer"; break; fi
        keys=$(keys_of "$info")
        # A replica of this very pod is no source: the two would replicate each other and nothing would
        # ever be master. If it holds data, only the sentinels' failover may make it master.
        if is_me "$(field "$info" master_host):$(field "$info" master_port)"; then
          [ "$keys" -gt 0 ] && waiting="$peer"
          continue
        fi
        if [ "$keys" -gt "$most" ]; then most=$keys; richest=$peer; fi
      done
      [ -n "$source" ] && break
      if ! has_data && [ -n "$waiting" ]; then
        # Not listening meanwhile, so the sentinels see this master down and promote that replica; there
        # is no deadline (the startup probe restarts the container after its budget, and it asks again).
        echo "start-up guard: my data directory is empty and $waiting, a replica of this pod, holds data;" \
          "not starting until the sentinels promote it"
        sleep 1
        named=$(named_master)
        if [ -n "$named" ] && ! is_me "$named"; then source="$named"; break; fi
        continue
      fi
      if ! has_data && [ -n "$richest" ]; then
        echo "start-up guard: my data directory is empty and $richest holds $most keys: starting as its replica"
        source="$richest"; break
      fi
      if [ "$answered" = 1 ] || has_data || [ "$(date +%s)" -ge "$deadline" ]; then break; fi
      sleep 1
    done
    if [ -z "$source" ] && [ -z "$named" ] && [ "$me" != "${PEERS%% *}" ]; then
      source="${PEERS%% *}"  # bootstrap, no sentinel knows the database: the first pod is master
    fi
  fi
fi
if [ -n "$source" ]; then
  echo "replicaof ${source%:*} ${REPLICATION_PORT:-${source##*:}}" >> "$run_dir/redis.conf"
fi
if [ "$SHARDED" = "yes" ] && [ -s "$data_dir/nodes.conf" ] && ! has_data; then
  # A Redis Cluster node back without its data (no persistence; kill -9, OOM): listening now, as the master
  # of its slots, it would serve them empty and its replica would resync to nothing. It waits, not
  # listening, until a copy of its shard (PEERS: its own shard's pods) is master: Redis Cluster fails the
  # shard over once this node is down for cluster-node-timeout (or, where it cannot - fewer than three
  # masters vote - the copy is asked to take over after FAILOVER_WAIT_SECONDS). Then it starts with its
  # identity, sees its slots owned by a newer epoch and becomes that master's replica.
  deadline=$(( $(date +%s) + ${FAILOVER_WAIT_SECONDS:-20} ))
  while :; do
    answered=""; taken=""
    for peer in $PEERS; do
      [ "$peer" = "$me" ] && continue
      role=$(ask "$peer" role | head -n 1)
      [ -n "$role" ] && answered="$peer"
      [ "$role" = "master" ] && taken="$peer"
    done
    if [ -n "$taken" ]; then echo "start-up guard: $taken serves this shard; rejoining as its replica"; break; fi
    if [ -z "$answered" ]; then echo "start-up guard: no copy of this shard answers: nothing to protect"; break; fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "start-up guard: no failover by Redis Cluster yet; asking $answered to take this shard over"
      ask "$answered" cluster failover takeover >/dev/null
      deadline=$(( $(date +%s) + ${FAILOVER_WAIT_SECONDS:-20} ))
    fi
    echo "start-up guard: no data but a Redis Cluster identity; waiting for a failover to $answered"
    sleep 1
  done
fi
echo "sentinels name ${named:-no master}; starting as ${source:+replica of }${source:-master}"
exec redis-server "$run_dir/redis.conf"
"""

# Alive while it answers at all: LOADING (reading its data set) and MASTERDOWN (a replica that may
# not serve stale data) are alive, not reasons to restart it.
REDIS_ALIVE = POD_LOGIN + r"""reply=$(timeout 4 redis-cli -p "$REDIS_PORT" ${REDIS_USER:+--user "$REDIS_USER"} \
  --no-auth-warning ping 2>&1 | tr -d '\r')
case "$reply" in PONG*|LOADING*|MASTERDOWN*) exit 0 ;; esac
echo "$reply"; exit 1"""

# Ready: data loaded; a replica additionally has its replication link up and no sync in progress,
# so a rollout never moves on (nor promotes it) while it holds a partial copy.
REDIS_READY = POD_LOGIN + r"""info=$(timeout 4 redis-cli -p "$REDIS_PORT" ${REDIS_USER:+--user "$REDIS_USER"} \
  --no-auth-warning info 2>&1 | tr -d '\r') || exit 1
printf '%s\n' "$info" | grep -q '^loading:0$' || { echo "loading or not answering"; exit 1; }
if printf '%s\n' "$info" | grep -q '^role:slave$'; then
  printf '%s\n' "$info" | grep -q '^master_link_status:up$' || { echo "replication link down"; exit 1; }
  printf '%s\n' "$info" | grep -q '^master_sync_in_progress:0$' || { echo "full sync in progress"; exit 1; }
fi
exit 0"""

# preStop of a database pod (non-sharded): a master that is being stopped first stops taking writes
# (CLIENT PAUSE WRITE: blocked clients get no acknowledgement), then waits, at most HANDOVER_SECONDS,
# until a replica is online with every byte of its replication stream (the replica's acknowledged
# offset equals the master's), and only then lets the pod stop. The sentinels then promote that
# replica, which holds every write the master acknowledged. Replicas and lone masters stop at once.
REDIS_HANDOVER = POD_LOGIN + r"""cli() {
  timeout 3 redis-cli -p "$REDIS_PORT" ${REDIS_USER:+--user "$REDIS_USER"} --no-auth-warning "$@" 2>/dev/null \
    | tr -d '\r'
}
info=$(cli info replication)
printf '%s\n' "$info" | grep -q '^role:master$' || exit 0
printf '%s\n' "$info" | grep -q '^connected_slaves:0$' && exit 0
wait=${HANDOVER_SECONDS:-20}
cli client pause $(( (wait + 10) * 1000 )) write > /dev/null
deadline=$(( $(date +%s) + wait ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  info=$(cli info replication)
  offset=$(printf '%s\n' "$info" | sed -n 's/^master_repl_offset://p')
  if [ -n "$offset" ] && printf '%s\n' "$info" | grep -q "^slave[0-9]*:.*state=online,offset=$offset,"; then
    echo "handover: a replica holds offset $offset; stopping"
    exit 0
  fi
  sleep 0.2
done
echo "handover: no replica caught up within $wait s; stopping anyway"
exit 0"""
