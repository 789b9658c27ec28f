"""docker-compose.yml and the Dockerfile, checked by reading them (no Docker here): the services exist,
their commands name modules that import, and their settings point at the stack's PostgreSQL and Redis."""
from __future__ import annotations

import importlib
import json
import shlex
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONTROLPLANE_SERVICES = {"web", "worker", "beat", "watcher"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def command_of(service: dict) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def test_the_stack_has_its_six_services(compose):
    assert set(compose["services"]) == {"postgres", "redis"} | CONTROLPLANE_SERVICES
    for name in CONTROLPLANE_SERVICES:
        service = compose["services"][name]
        assert service["build"] == "."
        assert {"postgres", "redis"} <= set(service["depends_on"])
        assert set(service["volumes"][0].split(":")[0:1]) <= set(compose["volumes"])


def test_every_service_reaches_the_stacks_postgres_and_redis(compose):
    for name in CONTROLPLANE_SERVICES:
        env = compose["services"][name]["environment"]
        database = dj_database_url.parse(env["DATABASE_URL"].replace("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}",
                                                                     "secret"))
        assert database["ENGINE"] == "django.db.backends.postgresql"
        assert database["HOST"] == "postgres" and database["NAME"] == "controlplane"
        assert urlparse(env["REDIS_URL"]).hostname == "redis"
        assert env["CONTROLPLANE_RECONCILE_MODE"] == "celery"
        assert "DJANGO_SECRET_KEY" in env and "DEBUG" not in " ".join(env)
        assert env["CONTROLPLANE_ENCRYPTION_KEYS"].startswith("${CONTROLPLANE_ENCRYPTION_KEYS:?")
    postgres = compose["services"]["postgres"]["environment"]
    assert postgres["POSTGRES_DB"] == "controlplane" and postgres["POSTGRES_USER"] == "controlplane"


def shell_commands(service: dict) -> list[list[str]]:
    """The commands a service runs: its command, split at `&&` when it goes through `sh -c`."""
    command = command_of(service)
    if command[:2] == ["sh", "-c"]:
        return [shlex.split(part.replace("exec ", "", 1)) for part in command[2].split("&&")]
    return [command]


def test_web_migrates_then_serves_the_asgi_application_on_uvicorn_workers(compose):
    web = compose["services"]["web"]
    migrate, serve = shell_commands(web)
    assert migrate == ["python", "manage.py", "migrate", "--noinput"]
    assert serve[:3] == ["python", "-m", "uvicorn"]
    module, attribute = serve[3].split(":")
    assert serve[3] == "controlplane.asgi:application"
    assert callable(getattr(importlib.import_module(module), attribute))
    assert "--workers" in serve and "--lifespan" in serve
    assert int(web["environment"]["CONTROLPLANE_DB_POOL"].split(":-")[1].rstrip("}")) > 0
    # The rest of the environment is the shared one.
    assert web["environment"]["DATABASE_URL"] == compose["services"]["worker"]["environment"]["DATABASE_URL"]


def image_dependencies() -> set[str]:
    """Distribution names the image installs (`pip install '.[postgres]'`), normalised."""
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["postgres"]
    return {re.split(r"[\[<>=!~ ]", requirement)[0].lower().replace("_", "-") for requirement in requirements}


def test_every_command_the_stack_runs_exists_in_the_image():
    """Each `python -m X` of compose, the Dockerfile and `make run-prod` is a package the image installs."""
    from importlib.metadata import packages_distributions

    from controlplane.prodstack import web_command

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    commands = [c for service in compose["services"].values() if "command" in service and "build" in service
                for c in shell_commands(service)]
    dockerfile = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")]
    commands.append(json.loads(dockerfile[-1][4:]))
    commands.append(["python", *web_command("python", 2, 8000)[1:]])
    installed = image_dependencies()
    distributions = packages_distributions()
    for command in commands:
        assert command[0] == "python", command
        if command[1] == "manage.py":
            assert (ROOT / "manage.py").exists()
            continue
        assert command[1] == "-m", command
        module = command[2]
        importlib.import_module(module)
        owners = {name.lower().replace("_", "-") for name in distributions.get(module, [])}
        assert owners & installed, f"{module} (from {owners}) is not installed by the image: {' '.join(command)}"


@pytest.mark.parametrize("service, subcommand", [("worker", "worker"), ("beat", "beat")])
def test_worker_and_beat_run_the_projects_celery_app(compose, service, subcommand):
    command = command_of(compose["services"][service])
    assert command[:3] == ["python", "-m", "celery"]
    app_module = command[command.index("-A") + 1]
    assert command[command.index("-A") + 2] == subcommand
    app = importlib.import_module(app_module).celery_app
    app.loader.import_default_modules()
    assert "engine.tasks.reconcile_everything" in app.tasks  # what beat schedules
    assert "engine.tasks.reconcile_everything" in {entry["task"] for entry in app.conf.beat_schedule.values()}


def test_the_dockerfile_builds_a_non_root_python_311_image():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "FROM python:3.11-slim"
    assert any(line.startswith("RUN pip install '.[postgres]'") for line in lines)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    for line in lines:
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"


def test_the_image_holds_every_package_the_project_installs():
    import tomllib

    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = {line.split()[1] for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("COPY ")}
    assert {name.rstrip("*") for name in packages} <= copied
