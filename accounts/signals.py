"""Team membership changes reach open dashboard sockets: a socket's rights are fixed when it opens."""
from __future__ import annotations

from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from timeline.broadcast import publish_membership_change

from .models import Team


@receiver(m2m_changed, sender=Team.members.through)
def membership_changed(sender, instance, action: str, reverse: bool, pk_set: set | None, **kwargs) -> None:
    """Members added to or removed from a team (either side of the relation, `clear()` too)."""
    if action == "pre_clear" and not reverse:
        instance._members_before_clear = list(instance.members.values_list("pk", flat=True))
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if reverse:  # user.teams.add/remove/clear(...): the user's own membership changed
        publish_membership_change([instance.pk])
    elif action == "post_clear":
        publish_membership_change(getattr(instance, "_members_before_clear", []))
    else:
        publish_membership_change(list(pk_set or ()))
