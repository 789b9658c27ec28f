"""Pod Security admission at the namespace's level (the Pod Security Standards, v1.32 checks).

A namespace labelled `pod-security.kubernetes.io/enforce: baseline|restricted` refuses pods that
break that level (403 Forbidden, worded like the API server); `.../warn` only adds `Warning`
headers. Workload objects (StatefulSets) are never refused, only warned about, as in a real cluster:
it is their pods the controller cannot create.
"""
from __future__ import annotations

from .emulator_api import ApiError

LEVELS = ("privileged", "baseline", "restricted")
_BASELINE_CAPABILITIES = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                          "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
_RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                       "projected", "secret"}


def level(namespace: dict | None, mode: str) -> str:
    labels = ((namespace or {}).get("metadata") or {}).get("labels") or {}
    value = labels.get(f"pod-security.kubernetes.io/{mode}", "privileged")
    return value if value in LEVELS else "privileged"


def violations(pod_spec: dict, at_level: str) -> list[str]:
    """The checks of `at_level` the pod spec fails, as the API server words them."""
    if at_level == "privileged":
        return []
    found = _baseline(pod_spec)
    if at_level == "restricted":
        found += _restricted(pod_spec)
    return found


def _containers(spec: dict) -> list[dict]:
    return (spec.get("initContainers") or []) + (spec.get("containers") or []) + (spec.get("ephemeralContainers") or [])


def _baseline(spec: dict) -> list[str]:
    found = []
    host = [f"{f}=true" for f in ("hostNetwork", "hostPID", "hostIPC") if spec.get(f)]
    if host:
        found.append(f"host namespaces ({', '.join(host)})")
    privileged = [c["name"] for c in _containers(spec) if (c.get("securityContext") or {}).get("privileged")]
    if privileged:
        found.append(f"privileged (container{'s' if len(privileged) > 1 else ''} "
                     f"{_names(privileged)} must not set securityContext.privileged=true)")
    for c in _containers(spec):
        added = set(((c.get("securityContext") or {}).get("capabilities") or {}).get("add") or [])
        if added - _BASELINE_CAPABILITIES:
            found.append(f'non-default capabilities (container "{c["name"]}" must not include '
                         f'{_names(sorted(added - _BASELINE_CAPABILITIES))} in securityContext.capabilities.add)')
    host_path = [v["name"] for v in spec.get("volumes") or [] if "hostPath" in v]
    if host_path:
        found.append(f"hostPath volumes (volume{'s' if len(host_path) > 1 else ''} {_names(host_path)})")
    host_ports = [str(p["hostPort"]) for c in _containers(spec) for p in c.get("ports") or [] if p.get("hostPort")]
    if host_ports:
        found.append(f"hostPort (hostPort{'s' if len(host_ports) > 1 else ''} {', '.join(host_ports)})")
    profiles = [(spec.get("securityContext") or {}).get("seccompProfile")] + \
        [(c.get("securityContext") or {}).get("seccompProfile") for c in _containers(spec)]
    if any((p or {}).get("type") == "Unconfined" for p in profiles):
        found.append('seccompProfile (seccompProfile.type must not be "Unconfined")')
    return found


def _restricted(spec: dict) -> list[str]:
    found = []
    pod_context = spec.get("securityContext") or {}
    containers = _containers(spec)
    volumes = [v["name"] for v in spec.get("volumes") or []
               if not set(v) - {"name"} <= _RESTRICTED_VOLUMES]
    if volumes:
        found.append(f"restricted volume types (volume{'s' if len(volumes) > 1 else ''} {_names(volumes)})")
    escalation = [c["name"] for c in containers
                  if (c.get("securityContext") or {}).get("allowPrivilegeEscalation") is not False]
    if escalation:
        found.append(f"allowPrivilegeEscalation != false (container{'s' if len(escalation) > 1 else ''} "
                     f"{_names(escalation)} must set securityContext.allowPrivilegeEscalation=false)")
    drop = [c["name"] for c in containers
            if "ALL" not in (((c.get("securityContext") or {}).get("capabilities") or {}).get("drop") or [])]
    if drop:
        found.append(f"unrestricted capabilities (container{'s' if len(drop) > 1 else ''} {_names(drop)} "
                     'must set securityContext.capabilities.drop=["ALL"])')
    non_root = [c["name"] for c in containers
                if (c.get("securityContext") or {}).get("runAsNonRoot",
                                                        pod_context.get("runAsNonRoot")) is not True]
    if non_root:
        found.append(f"runAsNonRoot != true (pod or container{'s' if len(non_root) > 1 else ''} "
                     f"{_names(non_root)} must set securityContext.runAsNonRoot=true)")
    root_user = pod_context.get("runAsUser") == 0 or any(
        (c.get("securityContext") or {}).get("runAsUser") == 0 for c in containers)
    if root_user:
        found.append("runAsUser=0 (pod and containers must not set runAsUser=0)")
    seccomp = [c["name"] for c in containers
               if ((c.get("securityContext") or {}).get("seccompProfile")
                   or pod_context.get("seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost")]
    if seccomp:
        found.append(f"seccompProfile (pod or container{'s' if len(seccomp) > 1 else ''} {_names(seccomp)} "
                     'must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")')
    return found


def _names(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def check_pod(namespace: dict | None, pod: dict) -> None:
    """403 Forbidden when the namespace enforces a level the pod breaks."""
    enforced = level(namespace, "enforce")
    found = violations(pod.get("spec") or {}, enforced)
    if found:
        name = pod["metadata"].get("name", "")
        raise ApiError(403, "Forbidden", f'pods "{name}" is forbidden: violates PodSecurity '
                       f'"{enforced}:latest": {", ".join(found)}', {"name": name, "kind": "pods"})


def warnings(namespace: dict | None, kind: str, obj: dict) -> list[str]:
    """`Warning` headers for a pod (warn level) or a workload's pod template (warn and enforce levels)."""
    spec = obj.get("spec") or {}
    pod_spec = spec if kind == "Pod" else ((spec.get("template") or {}).get("spec") or {})
    modes = ("warn",) if kind == "Pod" else ("warn", "enforce")
    for mode in modes:
        at_level = level(namespace, mode)
        found = violations(pod_spec, at_level)
        if found:
            return [f'would violate PodSecurity "{at_level}:latest": {", ".join(found)}']
    return []
