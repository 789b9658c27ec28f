from django.apps import AppConfig


class FrontendConfig(AppConfig):
    name = "frontend"
    verbose_name = "Dashboard"

    def ready(self) -> None:
        from . import membership  # noqa: F401  (connects the team membership receiver)
