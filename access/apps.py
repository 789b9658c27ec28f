from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "Users, roles and ACLs"

    def ready(self) -> None:
        from core import kinds

        from .kind import ACCESS_KINDS

        for kind in ACCESS_KINDS:
            kinds.register_document_kind(kind)
