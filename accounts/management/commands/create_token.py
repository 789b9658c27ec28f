"""`manage.py create_token USER`: issue a new API token for USER and print it, once.

Only a digest is stored (accounts/tokens.py): the printed token cannot be shown again, so keep it.
"""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug
from django.db import transaction

from accounts.models import Team
from accounts.tokens import issue_token


class Command(BaseCommand):
    help = ("Issue a new API token for a user and print it (send it as 'Authorization: Token <token>'). "
            "It is shown only now; the user's other tokens stay valid unless --rotate.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--create", action="store_true",
                            help="Create the user (without a password: API only) if it does not exist.")
        parser.add_argument("--staff", action="store_true", help="With --create: make the user staff.")
        parser.add_argument("--team", action="append", default=[], metavar="TEAM",
                            help="Add the user to TEAM (created if missing). Repeatable.")
        parser.add_argument("--rotate", action="store_true", help="Revoke the user's other tokens.")

    @transaction.atomic
    def handle(self, *args, username: str, create: bool, staff: bool, team: list[str], rotate: bool,
               **options) -> None:
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            if not create:
                raise CommandError(f"no user named {username!r}; pass --create to create one.")
            user = User(username=username, is_staff=staff)
            user.set_unusable_password()
            user.save()
        for name in team:
            try:
                validate_slug(name)
            except ValidationError:
                raise CommandError(f"--team {name!r}: a team name is letters, digits, '-' and '_'.") from None
            Team.objects.get_or_create(name=name)[0].members.add(user)
        self.stdout.write(issue_token(user, replace=rotate))
