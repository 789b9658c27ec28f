"""Team membership changes reach open dashboard sockets, whose rights are fixed when they open.

When users join or leave a team, a `membership.changed` message naming them goes to every group a
non-staff socket that could be affected listens on: `clusters` (list pages), every `cluster-<id>`
(cluster pages show their team's databases) and the team's `database-<id>` groups. Their sockets close
with 4409 and the page reconnects with the rights the user has now. No extra group per socket: the
messages ride the groups the sockets already follow. Staff sockets see everything and stay open.
"""
from __future__ import annotations

from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from accounts.models import Team
from clusters.models import Cluster
from databases.models import Database
from timeline.broadcast import publish_membership_change


def groups_showing(team_ids: list[int]) -> list[str]:
    """Every group on which a non-staff socket may show these teams' databases."""
    clusters = Cluster.objects.values_list("pk", flat=True)
    databases = Database.objects.filter(team__in=team_ids).values_list("pk", flat=True)
    return ["clusters", *(f"cluster-{pk}" for pk in clusters), *(f"database-{pk}" for pk in databases)]


@receiver(m2m_changed, sender=Team.members.through)
def membership_changed(sender, instance, action: str, reverse: bool, pk_set: set | None, **kwargs) -> None:
    """Members added to or removed from a team, from either side of the relation, `clear()` included."""
    if action == "pre_clear":  # what clear() is about to remove is gone by post_clear
        related = instance.teams if reverse else instance.members
        instance._cleared_pks = list(related.values_list("pk", flat=True))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    others = list(pk_set or ()) if action != "post_clear" else getattr(instance, "_cleared_pks", [])
    users, teams = ([instance.pk], others) if reverse else (others, [instance.pk])
    publish_membership_change(users, groups_showing(teams))
