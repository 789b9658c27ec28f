from django.apps import AppConfig


class ManifestsConfig(AppConfig):
    name = "manifests"
    verbose_name = "REC/REDB manifests and commands"
