from django.apps import AppConfig


class ClustersConfig(AppConfig):
    name = "clusters"
    verbose_name = "Clusters (REC)"

    def ready(self) -> None:
        from core import kinds

        from .kind import CLUSTER

        kinds.register(CLUSTER)
