from django.apps import AppConfig


class EngineConfig(AppConfig):
    name = "engine"
    verbose_name = "Reconciliation"

    def ready(self) -> None:
        from core.hooks import set_reconcile_requester

        from .enqueue import request_reconcile

        set_reconcile_requester(request_reconcile)
