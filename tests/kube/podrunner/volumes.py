"""What the kubelet prepares before a container starts: its volumes as folders, and its environment.

ConfigMap and Secret volumes are folders of files (`items` and `defaultMode` honoured; refreshed when
the object changes, each file replaced atomically), `emptyDir` a folder that lives as long as the
pod, a PersistentVolumeClaim a folder under the runner's volume root that outlives every pod (named
after the claim, so a recreated pod finds its data). A missing object is a `NotReady` error naming it,
as the kubelet reports `CreateContainerConfigError` or a failed mount.
"""
from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

from ..emulator import Store

DEFAULT_MODE = 0o644


class NotReady(Exception):
    """A pod cannot start yet; `reason` is the kubelet's word for it."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


def object_data(obj: dict) -> dict[str, bytes]:
    """The data of a ConfigMap or Secret as bytes (Secret `data` is base64, `stringData` plain)."""
    result: dict[str, bytes] = {}
    if obj.get("kind") == "Secret":
        result.update({k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()})
        result.update({k: v.encode() for k, v in (obj.get("stringData") or {}).items()})
    else:
        result.update({k: v.encode() for k, v in (obj.get("data") or {}).items()})
        result.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
    return result


def _write_atomically(path: Path, content: bytes, mode: int, gid: int | None) -> None:
    if path.exists() and path.read_bytes() == content and (path.stat().st_mode & 0o7777) == mode:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(content)
    os.chmod(temporary, mode)
    if gid is not None:
        os.chown(temporary, 0, gid)
    os.replace(temporary, path)


class VolumeSet:
    """The folders of one pod's volumes: `pod_dir` for its own, `claims_dir` for PVC data."""

    def __init__(self, store: Store, pod: dict, pod_dir: Path, claims_dir: Path):
        self.store, self.pod, self.pod_dir, self.claims_dir = store, pod, pod_dir, claims_dir
        self.namespace = pod["metadata"]["namespace"]
        security = pod["spec"].get("securityContext") or {}
        self.fs_group: int | None = security.get("fsGroup")

    def prepare(self) -> dict[str, Path]:
        """Every volume's folder by volume name, created or refreshed."""
        return {volume["name"]: self._prepare(volume) for volume in self.pod["spec"].get("volumes") or []}

    def _prepare(self, volume: dict) -> Path:
        name = volume["name"]
        if "emptyDir" in volume:
            return self._shared_dir(self.pod_dir / "empty" / name)
        if "persistentVolumeClaim" in volume:
            claim_name = volume["persistentVolumeClaim"]["claimName"]
            claim = self.store.find("PersistentVolumeClaim", self.namespace, claim_name)
            if claim is None or (claim.get("status") or {}).get("phase") != "Bound":
                raise NotReady("ContainerCreating", f'persistentvolumeclaim "{claim_name}" is not bound')
            return self._shared_dir(self.claims_dir / self.namespace / claim_name)
        if "configMap" in volume:
            source = volume["configMap"]
            return self._projected(name, "ConfigMap", source["name"], source)
        if "secret" in volume:
            source = volume["secret"]
            return self._projected(name, "Secret", source["secretName"], source)
        raise NotReady("ContainerCreating", f"volume {name}: this runner supports emptyDir, persistentVolumeClaim, "
                       "configMap and secret volumes")

    def _shared_dir(self, path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        if self.fs_group is not None:
            os.chown(path, -1, self.fs_group)
            os.chmod(path, 0o2775)
        return path

    def _projected(self, volume_name: str, kind: str, object_name: str, source: dict) -> Path:
        path = self.pod_dir / "projected" / volume_name
        obj = self.store.find(kind, self.namespace, object_name)
        if obj is None:
            if source.get("optional"):
                path.mkdir(parents=True, exist_ok=True)
                return path
            raise NotReady("ContainerCreating", f'MountVolume.SetUp failed for volume "{volume_name}": '
                           f'{kind.lower()} "{object_name}" not found')
        data = object_data(obj)
        mode = source.get("defaultMode", DEFAULT_MODE)
        files: dict[str, tuple[bytes, int]] = {}
        if source.get("items"):
            for item in source["items"]:
                if item["key"] not in data:
                    raise NotReady("ContainerCreating", f'{kind.lower()} "{object_name}" has no key {item["key"]}')
                files[item["path"]] = (data[item["key"]], item.get("mode", mode))
        else:
            files = {key: (value, mode) for key, value in data.items()}
        path.mkdir(parents=True, exist_ok=True)
        for relative, (content, file_mode) in files.items():
            if self.fs_group is not None:
                file_mode |= 0o440  # the kubelet makes read-only volume files readable by the fsGroup
            _write_atomically(path / relative, content, file_mode, self.fs_group)
        for stale in path.iterdir():
            if stale.name not in files and not stale.name.startswith("."):
                stale.unlink() if stale.is_file() else shutil.rmtree(stale)
        return path


def field_value(pod: dict, path: str) -> str:
    """A `fieldRef.fieldPath` of the downward API."""
    meta, spec, status = pod["metadata"], pod["spec"], pod.get("status") or {}
    simple = {"metadata.name": meta["name"], "metadata.namespace": meta["namespace"],
              "metadata.uid": meta.get("uid", ""), "spec.nodeName": spec.get("nodeName", ""),
              "spec.serviceAccountName": spec.get("serviceAccountName", "default"),
              "status.podIP": status.get("podIP", ""), "status.hostIP": status.get("hostIP", "")}
    if path in simple:
        return simple[path]
    for prefix, source in (("metadata.labels", meta.get("labels")), ("metadata.annotations", meta.get("annotations"))):
        if path.startswith(prefix + "['") and path.endswith("']"):
            return (source or {}).get(path[len(prefix) + 2:-2], "")
    raise NotReady("CreateContainerConfigError", f"unsupported fieldRef {path}")


def _key_ref(store: Store, namespace: str, kind: str, ref: dict) -> str | None:
    obj = store.find(kind, namespace, ref["name"])
    value = object_data(obj).get(ref["key"]) if obj else None
    if value is None and not ref.get("optional"):
        what = f'{kind.lower()} "{ref["name"]}"' + (f' has no key "{ref["key"]}"' if obj else " not found")
        raise NotReady("CreateContainerConfigError", what)
    return value.decode() if value is not None else None


def environment(store: Store, pod: dict, container: dict) -> dict[str, str]:
    """A container's environment: `envFrom`, then `env` (later wins), `$(VAR)` references expanded."""
    namespace = pod["metadata"]["namespace"]
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOSTNAME": pod["spec"].get("hostname") or pod["metadata"]["name"], "HOME": "/root"}
    for source in container.get("envFrom") or []:
        for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            if key in source:
                obj = store.find(kind, namespace, source[key]["name"])
                if obj is None and not source[key].get("optional"):
                    raise NotReady("CreateContainerConfigError", f'{kind.lower()} "{source[key]["name"]}" not found')
                for name, value in object_data(obj or {}).items():
                    env[source.get("prefix", "") + name] = value.decode()
    for var in container.get("env") or []:
        if "valueFrom" not in var:
            env[var["name"]] = expand(var.get("value", ""), env)
            continue
        source = var["valueFrom"]
        value: str | None
        if "secretKeyRef" in source:
            value = _key_ref(store, namespace, "Secret", source["secretKeyRef"])
        elif "configMapKeyRef" in source:
            value = _key_ref(store, namespace, "ConfigMap", source["configMapKeyRef"])
        elif "fieldRef" in source:
            value = field_value(pod, source["fieldRef"]["fieldPath"])
        else:
            raise NotReady("CreateContainerConfigError", f"env {var['name']}: unsupported valueFrom")
        if value is not None:
            env[var["name"]] = value
    return env


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion in env values, command and args (`$$` escapes)."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("$(", i) and ")" in text[i:]:
            end = text.index(")", i)
            name = text[i + 2:end]
            out.append(env.get(name, text[i:end + 1]))
            i = end + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)
