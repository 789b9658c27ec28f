"""The Users page's forms: an ACL, a role, a user, a binding. access/services.py validates (the one
validator); these only turn fields into the operator's spec."""
from __future__ import annotations

from django import forms

from core.errors import SpecError


class AccessForm(forms.Form):
    namespace = forms.CharField(max_length=63, initial="default", help_text="The namespace of the databases.")
    name = forms.CharField(max_length=253, help_text="Lowercase letters, digits and '-'.")
    # service field paths -> this form's fields (anything else is shown above the form)
    FIELDS: dict[str, str] = {"name": "name"}

    def spec(self) -> dict:
        raise NotImplementedError

    def add_spec_error(self, error: SpecError) -> None:
        for path, messages in error.errors.items():
            field = self.FIELDS.get(path)
            for message in messages:
                self.add_error(field if field in self.fields else None, f"{path}: {message}" if not field else message)


class AclForm(AccessForm):
    acl = forms.CharField(max_length=4096, label="ACL rule", help_text="e.g. +@read ~app:*")
    FIELDS = {"name": "name", "spec.acl": "acl"}

    def spec(self) -> dict:
        return {"acl": self.cleaned_data["acl"]}


class RoleForm(AccessForm):
    management_role = forms.ChoiceField(choices=[(r, r) for r in ("None", "DBViewer", "DBMember")],
                                        label="Management role",
                                        help_text="DBViewer sees the databases in the dashboard and API; "
                                                  "DBMember may change them.")
    databases = forms.CharField(max_length=2000, help_text="Database names, separated by commas.")
    acl = forms.CharField(max_length=253, label="ACL", help_text="The name of an ACL.")
    FIELDS = {"name": "name", "spec.managementRole": "management_role", "spec.acl.name": "acl"}

    def spec(self) -> dict:
        names = [n.strip() for n in self.cleaned_data["databases"].split(",") if n.strip()]
        return {"managementRole": self.cleaned_data["management_role"],
                "scopes": [{"kind": "RedisEnterpriseDatabase", "name": name} for name in names],
                "acl": {"kind": "RedisEnterpriseACL", "name": self.cleaned_data["acl"]}}


class UserForm(AccessForm):
    username = forms.CharField(max_length=128, help_text="The name applications log in with.")
    email = forms.EmailField(required=False, help_text="A control-plane account with this email gets the "
                                                       "management role of the user's roles.")
    FIELDS = {"name": "name", "spec.username": "username", "spec.email": "email"}

    def spec(self) -> dict:
        spec = {"username": self.cleaned_data["username"]}
        if self.cleaned_data["email"]:
            spec["email"] = self.cleaned_data["email"]
        return spec


class BindingForm(AccessForm):
    role = forms.CharField(max_length=253, help_text="The name of a role.")
    users = forms.CharField(max_length=2000, help_text="User names, separated by commas.")
    FIELDS = {"name": "name", "spec.roleRef.name": "role"}

    def spec(self) -> dict:
        names = [n.strip() for n in self.cleaned_data["users"].split(",") if n.strip()]
        return {"roleRef": {"kind": "RedisEnterpriseRole", "name": self.cleaned_data["role"]},
                "subjects": [{"kind": "RedisEnterpriseUser", "name": name} for name in names]}
