"""Fault and concurrency tests reuse the Kubernetes API server emulator of tests/kube."""
from tests.kube.conftest import kube_emulator, kube_env  # noqa: F401
