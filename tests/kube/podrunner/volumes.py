"""What the kubelet prepares before a container starts: its volumes as folders, and its environment.

ConfigMap and Secret volumes are folders of files (`items` and `defaultMode` honoured; refreshed when
the object changes, all files at once through the kubelet's `..data` symlink swap), `emptyDir` a folder
that lives as long as the pod, a PersistentVolumeClaim a folder under the runner's volume root that
outlives every pod (named after the claim, so a recreated pod finds its data). A missing object is a
`NotReady` error naming it, as the kubelet reports `CreateContainerConfigError` or a failed mount.
"""
from __future__ import annotations

import base64
import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from ..emulator import Store

DEFAULT_MODE = 0o644
DATA_LINK = "..data"  # the kubelet's name for the symlink to the current files


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


def _current_files(path: Path) -> dict[str, tuple[bytes, int]] | None:
    """What the volume's current `..data` folder holds (None before the first write)."""
    data = path / DATA_LINK
    if not data.is_dir():
        return None
    return {str(f.relative_to(data)): (f.read_bytes(), f.stat().st_mode & 0o7777)
            for f in data.rglob("*") if f.is_file()}


def write_projection(path: Path, files: dict[str, tuple[bytes, int]], gid: int | None) -> bool:
    """The kubelet's atomic writer: the files go into a new hidden folder `..<timestamp>`, the symlink `..data`
    is swapped to it with one rename, and each visible name is a symlink through `..data`; so a reader sees the
    old set or the new set of files, never a mix (a new certificate with the old key). True when it changed."""
    if _current_files(path) == files:
        return False
    path.mkdir(parents=True, exist_ok=True)
    stamp = Path(tempfile.mkdtemp(prefix=time.strftime("..%Y_%m_%d_%H_%M_%S."), dir=path))
    os.chmod(stamp, 0o755)
    for relative, (content, mode) in files.items():
        target = stamp / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        os.chmod(target, mode)
        if gid is not None:
            os.chown(target, 0, gid)
    previous = os.readlink(path / DATA_LINK) if (path / DATA_LINK).is_symlink() else None
    temporary = path / f"{DATA_LINK}_tmp"
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    temporary.symlink_to(stamp.name)
    os.replace(temporary, path / DATA_LINK)
    visible = {relative.split("/", 1)[0] for relative in files}
    for name in visible:
        link = path / name
        if not link.is_symlink():
            link.symlink_to(f"{DATA_LINK}/{name}")
    for entry in path.iterdir():
        if not entry.name.startswith(".") and entry.name not in visible:
            entry.unlink() if entry.is_symlink() or entry.is_file() else shutil.rmtree(entry)
    if previous:
        shutil.rmtree(path / previous, ignore_errors=True)
    return True


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
        if self.fs_group is not None:  # the kubelet makes read-only volume files readable by the fsGroup
            files = {relative: (content, mode | 0o440) for relative, (content, mode) in files.items()}
        write_projection(path, files, self.fs_group)
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
