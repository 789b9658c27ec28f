from django.apps import AppConfig


class LocalTargetConfig(AppConfig):
    name = "localtarget"
    verbose_name = "Local target (redis-server processes on this machine)"

    def ready(self) -> None:
        from . import driver  # noqa: F401  registers the "local" driver
