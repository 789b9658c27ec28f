from django.apps import AppConfig


class KubeConfig(AppConfig):
    name = "kube"
    verbose_name = "Kubernetes target"

    def ready(self) -> None:
        from core import kinds

        from . import driver  # noqa: F401  registers the "kubernetes" driver
        from .render.database import render_database
        from .render.tls_sentinels import render_cluster

        kinds.register_renderer("cluster", render_cluster)
        kinds.register_renderer("database", render_database)
