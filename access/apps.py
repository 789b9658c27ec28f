from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "Users, roles and ACLs"

    def ready(self) -> None:
        from accounts.grants import register_grant_source
        from core import kinds

        from .kind import ACCESS_KINDS
        from .services import management_grants

        for kind in ACCESS_KINDS:
            kinds.register_document_kind(kind)
        register_grant_source(management_grants)
