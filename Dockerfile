# syntax=docker/dockerfile:1
# Tandem's production image (SPEC §10). docker-compose.yml runs web, worker and beat from it;
# only the command differs. Configuration comes from the environment at run time, never from
# the image: see docker-compose.yml for the variables.

# Front-end packages, pinned by package-lock.json; settings/base.py's STATICFILES_DIRS reads
# them from node_modules/ and collectstatic copies them into the image below.
FROM node:24-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=settings.production \
    GUNICORN_CMD_ARGS="--bind=0.0.0.0:8000 --graceful-timeout=30" \
    WEB_CONCURRENCY=3

RUN groupadd --system --gid 10001 tandem \
 && useradd --system --uid 10001 --gid tandem --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin tandem

# Every package pinned with its hash (`make lock`); pip refuses anything else.
COPY requirements.lock /tmp/requirements.lock
RUN python -m venv /opt/venv \
 && pip install --require-hashes -r /tmp/requirements.lock \
 && rm /tmp/requirements.lock

WORKDIR /app
COPY --from=assets /assets/node_modules ./node_modules
COPY . .

# Static files are collected (hashed and compressed, for whitenoise) at build time. Production
# settings refuse to load without SECRET_KEY and DATABASE_URL: collectstatic uses neither, so
# throwaway values exist only for this command and never reach the image's environment.
RUN SECRET_KEY=build-time-only-not-secret \
    DATABASE_URL=postgres://unused@127.0.0.1:5432/unused \
    python manage.py collectstatic --no-input --verbosity 1 \
 && mkdir -p var/media \
 && chown tandem:tandem var/media

# The code stays owned by root: the application can write only to var/media (uploads).
USER tandem
EXPOSE 8000

# Ready: database reachable and migrated, broker reachable. /readyz answers by address over
# plain HTTP (before the host check and the HTTPS redirect). docker-compose.yml gives worker
# and beat their own checks.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD \
    python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/readyz', timeout=8)"

# gunicorn reads its bind address from GUNICORN_CMD_ARGS, its worker count from WEB_CONCURRENCY,
# and its logging and Prometheus hooks from gunicorn.conf.py.
CMD ["gunicorn", "settings.wsgi"]
