"""The in-pod services rigger: each database pod labels itself `redis.io/role` from what Redis and the sentinels say.

Service `<db>` selects the pod labelled `redis.io/role=master`. The control plane's rigger
(kube/rigger.py) moves that label too, but only while its worker and beat run; this sidecar keeps
doing it inside the cluster when the control plane is down. One authority picks the master (the
cluster's sentinels); labels follow it:

- the sentinels name this pod master and its Redis says `ROLE` master -> `master`;
- the sentinels name another pod (or this one while its Redis is down or a replica) -> `replica`;
- the sentinels do not answer or do not know the database (not registered yet, a database without
  replication) -> the label follows the pod's own `ROLE`;
- neither answers -> the label stays as it is.

It checks every second and patches only its own pod, only when the label must change (and again every
30 s, in case someone else changed it). The image is a `kubectl` image with `bash`: the stock
`redis` image has no HTTPS client for the API server, so Redis and the sentinels are spoken to in
RESP over bash's `/dev/tcp` (plain TCP inside the pod network) and the pod is labelled with
`kubectl label`, using the pod's ServiceAccount `<db>` whose Role allows `get`/`patch` on the
database's own pods only (resourceNames), nothing else.
"""
from __future__ import annotations

import copy

from kube import podspec
from operatorapi.images import reference

RIGGER_IMAGE = "bitnami/kubectl:1.30"
# What a database's pods may do through the Kubernetes API (limited to their own pods by resourceNames):
# `kubectl label` reads the pod, then patches it. The control plane must hold these too to grant them.
DATABASE_POD_ROLE_RULES = ({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "patch"]},)
# Seconds between checks, and between re-assertions of an unchanged label.
CHECK_SECONDS = 1
REASSERT_SECONDS = 30

RIGGER_SCRIPT = r"""set -u
export LC_ALL=C
me="$POD_NAME.$PEER_DOMAIN"

if [ "${1:-}" = ask ]; then  # ask HOST PORT USER COMMAND...: AUTH, then one command; prints the reply, one value a line
  host=$2 port=$3 user=$4; shift 4
  exec 3<>"/dev/tcp/$host/$port" || exit 1
  send() {
    printf '*%d\r\n' "$#"
    for arg in "$@"; do printf '$%d\r\n%s\r\n' "${#arg}" "$arg"; done
  }
  auth=${REDIS_PASSWORD:-${REDISCLI_AUTH:-}}  # the pods' own login (REDISCLI_AUTH: pods rendered before it)
  if [ -n "$user" ]; then send AUTH "$user" "$auth"; else send AUTH "$auth"; fi >&3
  send "$@" >&3
  reply() {
    IFS= read -r -t 2 line <&3 || exit 1
    line=${line%$'\r'}
    case $line in
      '*-1'|'$-1') echo ;;
      \**) local n=${line#\*} i; for ((i = 0; i < n; i++)); do reply; done ;;
      \$*) IFS= read -r -t 2 line <&3 || exit 1; echo "${line%$'\r'}" ;;
      [+:]*) echo "${line:1}" ;;
      *) exit 1 ;;
    esac
  }
  reply > /dev/null  # +OK of AUTH (an error ends it: nothing known)
  reply
  exit 0
fi

# PID 1 of its container: bash ignores SIGTERM unless trapped, and runs a trap only between commands, so
# the pause is a waited-for background sleep; a stopping pod ends at once, not after its grace period.
trap 'exit 0' TERM
have="" reassert=0
while :; do
  role=$(timeout 3 bash "$0" ask 127.0.0.1 "$REDIS_PORT" "${REDIS_USER:-}" ROLE 2>/dev/null | head -n 1)
  named=$(timeout 3 bash "$0" ask "$SENTINEL_HOST" "$SENTINEL_PORT" "$SENTINEL_USER" \
    SENTINEL get-master-addr-by-name "$DB_NAME" 2>/dev/null | head -n 1)
  want=""
  if [ -n "$named" ]; then
    if [ "$named" = "$me" ] && [ "$role" = master ]; then want=master; else want=replica; fi
  elif [ -n "$role" ]; then
    if [ "$role" = master ]; then want=master; else want=replica; fi
  fi
  now=$(date +%s)
  if [ -n "$want" ] && { [ "$want" != "$have" ] || [ "$now" -ge "$reassert" ]; }; then
    if kubectl label pod "$POD_NAME" --overwrite "redis.io/role=$want" > /dev/null; then
      [ "$want" = "$have" ] \
        || echo "$(date -u +%FT%TZ) labelled $want (role ${role:-unknown}, sentinels name ${named:-nobody})"
      have=$want reassert=$((now + REASSERT_SECONDS))
    fi
  fi
  sleep "$CHECK_SECONDS" & wait $!
done
"""


def pod_names(name: str, count: int) -> list[str]:
    return [f"{name}-{i}" for i in range(count)]


def rbac(name: str, namespace: str, common: dict, pods: list[str]) -> list[dict]:
    """ServiceAccount, Role and RoleBinding `<db>`: get and patch the database's own pods, nothing else."""
    rules = [{**copy.deepcopy(rule), "resourceNames": list(pods)} for rule in DATABASE_POD_ROLE_RULES]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": podspec.metadata(name, namespace, common),
         "automountServiceAccountToken": False},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": podspec.metadata(name, namespace, common), "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": podspec.metadata(name, namespace, common),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]},
    ]


def rigger_container(image_spec: dict | None, env: list[dict]) -> dict:
    """The sidecar; `image_spec`: the REC's `redisEnterpriseServicesRiggerImageSpec` (None: RIGGER_IMAGE);
    `env`: DB_NAME, REDIS_PORT, PEER_DOMAIN, SENTINEL_*, REDIS_USER and REDIS_PASSWORD (the redis container's)."""
    image = reference(image_spec["repository"], image_spec.get("versionTag"), image_spec.get("digestHash")) \
        if image_spec else RIGGER_IMAGE
    policy = {"imagePullPolicy": image_spec["imagePullPolicy"]} if (image_spec or {}).get("imagePullPolicy") else {}
    return {
        "name": "rigger",
        "image": image,
        **policy,
        "command": ["bash", "/etc/redis/rigger.sh"],
        "env": [*env,
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "CHECK_SECONDS", "value": str(CHECK_SECONDS)},
                {"name": "REASSERT_SECONDS", "value": str(REASSERT_SECONDS)},
                {"name": "HOME", "value": "/tmp"}],  # kubectl's cache, on the writable emptyDir
        "resources": {"requests": {"cpu": "10m", "memory": "0"}, "limits": {"memory": "64Mi"}},
        "securityContext": podspec.container_security(),
        "volumeMounts": [{"name": "config", "mountPath": "/etc/redis", "readOnly": True},
                         {"name": "rigger-tmp", "mountPath": "/tmp"}],
    }


def rigger_volume() -> dict:
    return {"name": "rigger-tmp", "emptyDir": {"sizeLimit": "16Mi"}}
