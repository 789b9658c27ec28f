from django.urls import re_path

from .api import AccessDetailView, AccessListView, UserPasswordView

NAME = r"(?P<namespace>[a-z0-9][-a-z0-9.]*)/(?P<name>[a-z0-9][-a-z0-9.]*)"
urlpatterns = [
    re_path(rf"^access/users/{NAME}/reveal-password/$", UserPasswordView.as_view(), {"action": "reveal-password"},
            name="access-user-reveal-password"),
    re_path(rf"^access/users/{NAME}/rotate-password/$", UserPasswordView.as_view(), {"action": "rotate-password"},
            name="access-user-rotate-password"),
    re_path(r"^access/(?P<kind>acls|roles|users|rolebindings)/$", AccessListView.as_view(), name="access-list"),
    re_path(rf"^access/(?P<kind>acls|roles|users|rolebindings)/{NAME}/$", AccessDetailView.as_view(),
            name="access-detail"),
]
