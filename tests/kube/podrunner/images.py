"""Images as binaries of this machine: which image names exist, and what an image runs when a pod gives no command.

`redis:<version>` runs Debian's `redis-server`, `redis-sentinel` and `redis-cli` from /usr/bin (the
version in the tag is reported, the installed one runs) with a POSIX shell, like the official image
whose entrypoint runs `redis-server`; `oliver006/redis_exporter` runs Debian's
`prometheus-redis-exporter`; `bitnami/kubectl` runs this machine's `kubectl` and `bash`.
Any other image fails to pull (`ErrImagePull`), as an unknown
image does on a cluster.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Image:
    entrypoint: list[str]
    cmd: list[str]


IMAGES = {
    "redis": Image(entrypoint=[], cmd=["redis-server"]),
    # the database pods' metrics sidecar: Debian packages the same exporter
    "oliver006/redis_exporter": Image(entrypoint=["prometheus-redis-exporter"], cmd=[]),
    # the database pods' label mover: the real kubectl (and bash, which the image has)
    "bitnami/kubectl": Image(entrypoint=["kubectl"], cmd=[]),
}


class ImageNotFound(Exception):
    pass


def resolve(image: str) -> Image:
    repository = image.rsplit("@", 1)[0]
    if ":" in repository.rsplit("/", 1)[-1]:
        repository = repository.rsplit(":", 1)[0]
    repository = repository.removeprefix("docker.io/").removeprefix("library/")
    if repository not in IMAGES:
        raise ImageNotFound(f'failed to pull image "{image}": this runner maps only {", ".join(IMAGES)} images '
                            "to binaries of this machine")
    return IMAGES[repository]


def argv(image: Image, container: dict) -> list[str]:
    """What runs: `command` replaces the entrypoint, `args` the image's cmd (Kubernetes' rules)."""
    if "command" in container:
        return [*container["command"], *(container.get("args") or [])]
    args = container.get("args")
    if args is None:
        return [*image.entrypoint, *image.cmd]
    if not image.entrypoint and (args[:1] and (args[0].startswith("-") or args[0].endswith(".conf"))):
        return ["redis-server", *args]  # the redis image's entrypoint does this
    return [*image.entrypoint, *args]
