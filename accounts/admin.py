"""Django admin for teams (users and API tokens use the admin pages Django and DRF ship)."""
from django.contrib import admin

from .models import Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "created_at"]
    search_fields = ["name", "members__username"]
    filter_horizontal = ["members"]

    @admin.display(description="members")
    def member_count(self, team: Team) -> int:
        return team.members.count()
