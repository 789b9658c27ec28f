from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "backups"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.secrets import set_stored_reader  # app registry ready: models importable

        from .secrets import stored_values
        set_stored_reader(stored_values)
