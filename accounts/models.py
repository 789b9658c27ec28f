"""Teams: the unit that owns databases. Staff users manage clusters and see everything."""
from django.conf import settings
from django.db import models


class Team(models.Model):
    name = models.SlugField(max_length=63, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """An API token, stored as its SHA-256 digest: the raw key is shown once, when it is issued.

    Keys are 160 random bits, so a fast digest is enough (no salt or stretching needed, as with
    DRF knox); a stolen database or backup yields no usable token. `prefix` names a token in the
    admin without revealing it.
    """

    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user", "created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
