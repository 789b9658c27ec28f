from django.apps import AppConfig


class DatabasesConfig(AppConfig):
    name = "databases"
    verbose_name = "Databases (REDB)"

    def ready(self) -> None:
        from core import kinds

        from .kind import DATABASE

        kinds.register(DATABASE)
