"""Which team owns a new database: the one rule every write path (API, dashboard, YAML) applies."""
from __future__ import annotations

from core.errors import SpecError

from .models import Team


def owner_team_for(user, requested: str | None) -> Team:
    """The team a database created by `user` belongs to.

    Staff may name any team. Anyone else gets the named team if they are a member, or their only
    team when none is named. Raises SpecError on the `team` field otherwise.
    """
    if requested:
        team = Team.objects.filter(name=requested).first()
        if team is None:
            raise SpecError({"team": [f"no team named {requested!r}."]})
        if not user.is_staff and not team.members.filter(pk=user.pk).exists():
            raise SpecError({"team": [f"you are not a member of team {requested!r}."]})
        return team
    teams = list(Team.objects.filter(members=user)) if user.is_authenticated else []
    if len(teams) == 1:
        return teams[0]
    if not teams:
        raise SpecError({"team": ["required: you belong to no team; name the team that owns the database."
                                  if user.is_staff else
                                  "you belong to no team; ask an administrator to add you to one."]})
    raise SpecError({"team": [f"required: you belong to several teams; name one of: "
                              f"{', '.join(t.name for t in teams)}."]})
