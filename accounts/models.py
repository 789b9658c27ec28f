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
