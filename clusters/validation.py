"""The one validator for cluster (REC) specs, used by every write path and by the reconciler.

`validate_cluster` checks a write (create or full replace) and returns the spec to store, with
defaults filled; `stored_cluster_problems` runs the same rules over an already stored spec, for
status `Invalid` when it can no longer be realised.
"""
from __future__ import annotations

import copy

from core.drivers import driver_for
from core.engines import default_version
from core.quantity import format_memory, parse_memory
from core.validation import (
    Checked,
    FieldSet,
    Problems,
    check_fields,
    dns_label_problem,
    dns_subdomain_problem,
    downgrade_problem,
    expect_bool,
    expect_cpu,
    expect_int,
    expect_list,
    expect_mapping,
    expect_memory,
    expect_string,
    expect_string_map,
    object_name_problem,
    version_problem,
)
from operatorapi.images import (
    PULL_POLICIES,
    digest_problem,
    is_enterprise_version,
    repository_problem,
    tag_problem,
)
from operatorapi.rec import REC_LEGACY, REC_SPEC
from specs.cluster import ClusterSpec
from targets.models import CertificateSecret, Target
from targets.shape import check_defined

from .capacity import used_bytes

# Every field the Redis Enterprise operator defines is known (operatorapi/rec.py says which are used here).
SPEC_FIELDS = FieldSet.defined(REC_SPEC, legacy=REC_LEGACY)
PERSISTENT_FIELDS = FieldSet.defined(REC_SPEC["persistentSpec"])
RESOURCES_FIELDS = FieldSet.defined(REC_SPEC["redisEnterpriseNodeResources"])
RESOURCE_AMOUNT_FIELDS = FieldSet.of(["cpu", "memory"], unused=["ephemeral-storage"])
IMAGE_FIELDS = FieldSet.defined(REC_SPEC["redisEnterpriseImageSpec"])
RIGGER_IMAGE_FIELDS = FieldSet.defined(REC_SPEC["redisEnterpriseServicesRiggerImageSpec"])
PULL_SECRET_FIELDS = FieldSet.defined(REC_SPEC["pullSecrets"])
INGRESS_FIELDS = FieldSet.defined(REC_SPEC["ingressOrRouteSpec"])
CERTIFICATES_FIELDS = FieldSet.defined(REC_SPEC["certificates"])
INGRESS_METHODS = ["ingress", "openShiftRoute", "istio"]
UI_SERVICE_TYPES = ["ClusterIP", "NodePort", "LoadBalancer"]
DEFAULT_NODES = 3
# Quorum members per cluster: a majority of more than this many sentinels only adds failover latency.
MAX_NODES = 31
VERSION_PATH = "spec.redisEnterpriseImageSpec.versionTag"


def validate_cluster(spec: object, *, name: str, namespace: str, target: Target,
                     current=None) -> Checked:
    """Check a create (`current` None) or a full replace of `current`; raise SpecError listing every problem."""
    problems = Problems()
    if current is None:
        _check_identity(problems, name=name, namespace=namespace, target=target)
    elif name != current.name:
        problems.add("name", f"the name of a cluster cannot change (it is {current.name})")
    if not isinstance(spec, dict):
        problems.add("spec", "must be an object (a mapping of fields)")
        problems.raise_if_any()
    versions = driver_for(target).redis_versions()
    _check_spec(problems, spec, target=target, versions=versions)
    check_defined(problems, spec, REC_SPEC, "spec")  # the operator's rules, on writes only
    if current is not None:
        _check_transition(problems, spec, current)
    problems.raise_if_any()
    return Checked(spec=_with_defaults(spec, versions=versions, current=current), warnings=problems.warnings)


def stored_cluster_problems(cluster, driver) -> list[str]:
    """Reasons a stored, once-valid spec can no longer be realised on its target (status Invalid)."""
    problems = Problems()
    _check_spec(problems, cluster.spec, target=cluster.target, versions=driver.redis_versions())
    return problems.as_messages()


def _stored_with_key(name: str) -> bool:
    secret = CertificateSecret.objects.filter(name=name).first()
    return secret is not None and bool(secret.key)


def _check_identity(problems: Problems, *, name: str, namespace: str, target: Target) -> None:
    from .models import Cluster

    problem = object_name_problem(name)
    if problem:
        problems.add("name", problem)
    elif Cluster.objects.filter(name=name).exists():
        problems.add("name", f"a cluster named {name} already exists")
    problem = dns_label_problem(namespace, what="namespace")
    if problem:
        problems.add("namespace", problem)
    else:
        taken = Cluster.objects.filter(target=target, namespace=namespace).first()
        if taken is not None:
            problems.add("namespace", f"namespace {namespace} on target {target.name} already has cluster "
                                      f"{taken.name}; one cluster per namespace per target")


def _check_image(problems: Problems, image: dict, path: str, *, tag: bool) -> None:
    """repository, digestHash, imagePullPolicy (and versionTag when `tag`: the rigger image's; the Redis image's
    versionTag is a Redis version, checked above) of an image spec."""
    checks = [("repository", repository_problem), ("digestHash", digest_problem)] + ([("versionTag", tag_problem)]
                                                                                   if tag else [])
    for key, problem_of in checks:
        value = expect_string(problems, image.get(key), f"{path}.{key}")
        problem = value is not None and problem_of(value)
        if problem:
            problems.add(f"{path}.{key}", problem)
    expect_string(problems, image.get("imagePullPolicy"), f"{path}.imagePullPolicy", choices=PULL_POLICIES)


def _check_spec(problems: Problems, spec: dict, *, target: Target, versions: list[str]) -> None:
    """Rules a spec must meet on its own, whatever it replaces."""
    check_fields(problems, spec, SPEC_FIELDS, "spec")
    nodes = expect_int(problems, spec.get("nodes"), "spec.nodes", minimum=1, maximum=MAX_NODES)
    if nodes is not None:
        minimum = 3 if target.kind == Target.KUBERNETES else 1
        if nodes < minimum:
            problems.add("spec.nodes", f"must be at least {minimum} on a {target.kind} target")
        elif nodes % 2 == 0:
            problems.add("spec.nodes", f"must be odd so a majority of quorum members exists (got {nodes})")
    _check_persistence(problems, spec.get("persistentSpec"), target)
    _check_resources(problems, spec.get("redisEnterpriseNodeResources"))
    image = expect_mapping(problems, spec.get("redisEnterpriseImageSpec"), "spec.redisEnterpriseImageSpec")
    if image is not None:
        check_fields(problems, image, IMAGE_FIELDS, "spec.redisEnterpriseImageSpec")
        version = expect_string(problems, image.get("versionTag"), VERSION_PATH)
        if is_enterprise_version(version):
            problems.warn(enterprise_version_warning(version, versions))
        else:
            problem = version and version_problem(version, versions, target.name)
            if problem:
                problems.add(VERSION_PATH, problem)
        _check_image(problems, image, "spec.redisEnterpriseImageSpec", tag=False)
        if image.get("digestHash") and not version:
            problems.add("spec.redisEnterpriseImageSpec.digestHash",
                         "needs versionTag: a digest names one image, the quorum members' Redis version")
    rigger = expect_mapping(problems, spec.get("redisEnterpriseServicesRiggerImageSpec"),
                            "spec.redisEnterpriseServicesRiggerImageSpec")
    if rigger is not None:
        check_fields(problems, rigger, RIGGER_IMAGE_FIELDS, "spec.redisEnterpriseServicesRiggerImageSpec")
        _check_image(problems, rigger, "spec.redisEnterpriseServicesRiggerImageSpec", tag=True)
        if not rigger.get("repository"):
            problems.add("spec.redisEnterpriseServicesRiggerImageSpec.repository",
                         "is required: the image of the pods' rigger sidecar (kubectl and bash), e.g. bitnami/kubectl")
    for index, secret in enumerate(expect_list(problems, spec.get("pullSecrets"), "spec.pullSecrets") or []):
        path = f"spec.pullSecrets[{index}]"
        if expect_mapping(problems, secret, path) is not None:
            check_fields(problems, secret, PULL_SECRET_FIELDS, path)
            problem = dns_subdomain_problem(secret.get("name"))
            if problem:
                problems.add(f"{path}.name", problem)
    expect_string_map(problems, spec.get("nodeSelector"), "spec.nodeSelector")
    tolerations = expect_list(problems, spec.get("podTolerations"), "spec.podTolerations") or []
    for index, toleration in enumerate(tolerations):
        expect_mapping(problems, toleration, f"spec.podTolerations[{index}]")
    expect_mapping(problems, spec.get("podAntiAffinity"), "spec.podAntiAffinity")
    expect_string(problems, spec.get("rackAwarenessNodeLabel"), "spec.rackAwarenessNodeLabel")
    expect_string(problems, spec.get("priorityClassName"), "spec.priorityClassName")
    expect_string_map(problems, spec.get("extraLabels"), "spec.extraLabels")
    expect_string(problems, spec.get("uiServiceType"), "spec.uiServiceType", choices=UI_SERVICE_TYPES)
    ingress = expect_mapping(problems, spec.get("ingressOrRouteSpec"), "spec.ingressOrRouteSpec")
    if ingress is not None:
        check_fields(problems, ingress, INGRESS_FIELDS, "spec.ingressOrRouteSpec")
        expect_string(problems, ingress.get("method"), "spec.ingressOrRouteSpec.method", choices=INGRESS_METHODS)
        expect_string(problems, ingress.get("apiFqdnUrl"), "spec.ingressOrRouteSpec.apiFqdnUrl")
        expect_string(problems, ingress.get("dbFqdnSuffix"), "spec.ingressOrRouteSpec.dbFqdnSuffix")
        expect_string_map(problems, ingress.get("ingressAnnotations"), "spec.ingressOrRouteSpec.ingressAnnotations")
    expect_bool(problems, spec.get("clusterRecovery"), "spec.clusterRecovery")
    expect_string(problems, spec.get("username"), "spec.username")
    certificates = expect_mapping(problems, spec.get("certificates"), "spec.certificates")
    if certificates is not None:  # the databases' server certificate; the other names are the operator's only
        check_fields(problems, certificates, CERTIFICATES_FIELDS, "spec.certificates")
        name = certificates.get("proxyCertificateSecretName")
        problem = name is not None and dns_subdomain_problem(name)
        if problem:
            problems.add("spec.certificates.proxyCertificateSecretName", problem)
        elif name and target.kind == Target.LOCAL and not _stored_with_key(name):
            # It may come later (as a Kubernetes Secret may): said now, the databases' Error until then.
            problems.warn(f"spec.certificates.proxyCertificateSecretName: no certificate secret {name} with a key is "
                          f"stored yet; TLS databases of this cluster show Error until it is (manage.py "
                          f"certificate_secret {name} --cert FILE --key FILE)")


def _check_persistence(problems: Problems, value: object, target: Target) -> None:
    persistent = expect_mapping(problems, value, "spec.persistentSpec")
    if persistent is None:
        return
    check_fields(problems, persistent, PERSISTENT_FIELDS, "spec.persistentSpec")
    enabled = expect_bool(problems, persistent.get("enabled"), "spec.persistentSpec.enabled")
    if enabled is False and target.kind == Target.KUBERNETES:
        problems.add("spec.persistentSpec.enabled", "persistence is mandatory on a kubernetes target")
    expect_string(problems, persistent.get("storageClassName"), "spec.persistentSpec.storageClassName")
    expect_memory(problems, persistent.get("volumeSize"), "spec.persistentSpec.volumeSize", minimum=1,
                  minimum_text="1 byte")
    expect_bool(problems, persistent.get("enablePersistentVolumeResize"),
                "spec.persistentSpec.enablePersistentVolumeResize")


def _check_resources(problems: Problems, value: object) -> None:
    path = "spec.redisEnterpriseNodeResources"
    resources = expect_mapping(problems, value, path)
    if resources is None:
        return
    check_fields(problems, resources, RESOURCES_FIELDS, path)
    memory = {}
    for part in ("limits", "requests"):
        amounts = expect_mapping(problems, resources.get(part), f"{path}.{part}")
        if amounts is None:
            continue
        check_fields(problems, amounts, RESOURCE_AMOUNT_FIELDS, f"{path}.{part}")
        expect_cpu(problems, amounts.get("cpu"), f"{path}.{part}.cpu")
        memory[part] = expect_memory(problems, amounts.get("memory"), f"{path}.{part}.memory", minimum=1,
                                     minimum_text="1 byte")
    if memory.get("limits") and memory.get("requests") and memory["requests"] > memory["limits"]:
        problems.add(f"{path}.requests.memory", "must not be more than limits.memory")


def _check_transition(problems: Problems, spec: dict, current) -> None:
    """Rules about changing a stored spec: what may not shrink, what may not change."""
    if problems.has("spec"):
        return  # compare only well-formed specs
    before, after = current.typed_spec, ClusterSpec.from_spec(spec)
    if after.nodes < before.nodes:
        problems.add("spec.nodes", f"cannot decrease from {before.nodes} to {after.nodes}")
    if after.storage_class != before.storage_class:
        problems.add("spec.persistentSpec.storageClassName",
                     f"cannot change once set (it is {before.storage_class or 'the default class'})")
    if parse_memory(after.volume_size) < parse_memory(before.volume_size):
        problems.add("spec.persistentSpec.volumeSize",
                     f"volumes cannot shrink (from {before.volume_size} to {after.volume_size})")
    username = spec.get("username")
    if username is not None and username != current.admin_username:
        problems.add("spec.username", f"cannot change once the cluster exists (it is {current.admin_username})")
    version = (spec.get("redisEnterpriseImageSpec") or {}).get("versionTag")
    problem = version and not is_enterprise_version(version) and downgrade_problem(version, before.redis_version)
    if problem:
        problems.add(VERSION_PATH, problem)
    if after.capacity_bytes < before.capacity_bytes:
        used = used_bytes(current)
        if used > after.capacity_bytes:
            problems.add("spec.redisEnterpriseNodeResources",
                         f"capacity would be {format_memory(after.capacity_bytes)} but the databases of cluster "
                         f"{current.name} already use {format_memory(used)}")


def enterprise_version_warning(tag: str, versions: list[str]) -> str:
    return (f"{VERSION_PATH}: {tag} is a Redis Enterprise Software version, not a Redis version; it is not used: "
            "the cluster keeps its Redis version (a new one gets the target's newest). Give a Redis version to "
            f"choose one ({', '.join(versions) or 'none offered'})")


def _with_defaults(spec: dict, *, versions: list[str], current) -> dict:
    """The spec to store: the user's fields plus `nodes` and a pinned Redis version.

    A version the user leaves out, or gives as a Redis Enterprise Software version, stays what it
    was (a full replace never upgrades by accident); a new cluster gets the target's newest Redis
    (core/engines.py).
    """
    stored = copy.deepcopy(spec)
    stored.setdefault("nodes", DEFAULT_NODES)
    image = stored.setdefault("redisEnterpriseImageSpec", {})
    if not image.get("versionTag") or is_enterprise_version(image["versionTag"]):
        image.pop("versionTag", None)
        previous = current.typed_spec.redis_version if current is not None else None
        newest = default_version(versions)
        if previous or newest:
            image["versionTag"] = previous or newest
    if not image:
        del stored["redisEnterpriseImageSpec"]
    return stored
