"""Django admin for teams and API tokens (users use the admin pages Django ships)."""
from django.contrib import admin

from .models import ApiToken, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "created_at"]
    search_fields = ["name", "members__username"]
    filter_horizontal = ["members"]

    @admin.display(description="members")
    def member_count(self, team: Team) -> int:
        return team.members.count()


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens can be listed and revoked here; they are issued by `manage.py create_token` (shown once)."""

    list_display = ["prefix", "user", "created_at"]
    search_fields = ["user__username", "prefix"]
    readonly_fields = ["prefix", "user", "created_at"]
    exclude = ["digest"]

    def has_add_permission(self, request) -> bool:
        return False
