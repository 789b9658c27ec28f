# The control plane image: one image for web (uvicorn workers, ASGI), worker and beat (Celery).
# Build: docker build -t redis-controlplane .   Run the whole stack: see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=controlplane.settings \
    CONTROLPLANE_VAR_DIR=/var/lib/controlplane

# redis-tools: redis-cli, for checking databases from inside the container.
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-tools \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /home/controlplane controlplane \
    && mkdir -p /var/lib/controlplane \
    && chown controlplane:controlplane /var/lib/controlplane \
    && chmod 700 /var/lib/controlplane

WORKDIR /app
# Dependencies first (cached while only the code changes), then the code itself.
COPY pyproject.toml README.md ./
COPY core ./core
COPY specs ./specs
COPY dataplane ./dataplane
COPY engine ./engine
COPY manifests ./manifests
COPY controlplane ./controlplane
COPY operatorapi ./operatorapi
COPY accounts ./accounts
COPY targets ./targets
COPY clusters ./clusters
COPY databases ./databases
COPY timeline ./timeline
COPY frontend ./frontend
COPY localtarget ./localtarget
COPY kube ./kube
COPY backups ./backups
COPY metrics ./metrics
COPY manage.py ./
RUN pip install '.[postgres]'

USER controlplane
EXPOSE 8000
VOLUME ["/var/lib/controlplane"]
CMD ["python", "-m", "uvicorn", "controlplane.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "4", "--lifespan", "off", "--no-access-log"]
