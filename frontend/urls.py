"""Dashboard pages."""
from django.contrib.auth import views as auth_views
from django.contrib.staticfiles.views import serve
from django.urls import include, path, re_path

from .views import backups, certificates, clusters, databases, home, lifecycle, state, targets, users

dashboard_patterns = [
    path("", home.home, name="home"),
    path("clusters/", clusters.cluster_list, name="cluster-list"),
    path("clusters/new/", clusters.ClusterFormView.as_view(), name="cluster-create"),
    path("clusters/<int:pk>/", clusters.cluster_detail, name="cluster-detail"),
    path("clusters/<int:pk>/edit/", clusters.ClusterEditView.as_view(), name="cluster-edit"),
    path("databases/", databases.database_list, name="database-list"),
    path("databases/new/", databases.DatabaseFormView.as_view(), name="database-create"),
    path("databases/<int:pk>/", databases.database_detail, name="database-detail"),
    path("databases/<int:pk>/edit/", databases.DatabaseEditView.as_view(), name="database-edit"),
    path("databases/<int:pk>/credentials/", databases.reveal_credentials, name="database-credentials"),
    path("databases/<int:pk>/backup/", backups.backup_now, name="database-backup"),
    path("databases/<int:pk>/restore/", backups.restore, name="database-restore"),
    path("databases/<int:pk>/cutover/", backups.cut_over, name="database-cutover"),
    re_path(r"^(?P<kind>cluster|database)s/(?P<pk>[0-9]+)/upgrade/$", lifecycle.upgrade, name="upgrade"),
    re_path(r"^(?P<kind>cluster|database)s/(?P<pk>[0-9]+)/delete/$", lifecycle.delete, name="delete"),
    path("targets/", targets.target_list, name="target-list"),
    path("users/", users.users, name="user-list"),
    re_path(r"^users/(?P<pk>[0-9]+)/(?P<action>reveal|rotate)-password/$", users.password, name="user-password"),
    path("certificates/", certificates.certificate_list, name="certificate-list"),
    path("certificates/<str:name>/delete/", certificates.certificate_delete, name="certificate-delete"),
    path("state/", state.state, name="state"),
]

# Dashboard pages are reversed as "frontend:<name>"; login and logout keep their global names
# (settings.LOGIN_URL points at "login").
urlpatterns = [
    path("", include((dashboard_patterns, "frontend"))),
    path("login/", auth_views.LoginView.as_view(template_name="frontend/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The dashboard's few static files are served by the app itself, so `make run` (Daphne) needs no
    # separate web server; a proxy or CDN in front may cache them.
    re_path(r"^static/(?P<path>.*)$", serve, {"insecure": True}, name="static"),
]
