# One image for every role: the command picks web, worker or trainer.
FROM python:3.11-slim

# ENV=production: the web role binds 0.0.0.0, which is allowed only in production mode, and
# production mode refuses to start without a secret ADMIN_TOKEN (pass it at run time, with
# REDIS_URL carrying the Redis password: redis://:PASSWORD@host:6379/0, or rediss:// for TLS).
ENV ENV=production \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MODEL_STORE=/models

WORKDIR /app

# Dependencies first, from pyproject alone, so code edits do not reinstall TensorFlow.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 digitflow \
    && mkdir -p /models /app/var \
    && chown -R digitflow:digitflow /models /app/var

# A named volume mounted on /models starts out with this directory's owner, so the
# unprivileged user can write models into it.
VOLUME ["/models"]
USER digitflow

# The web role runs one process per container; docker-compose.yml puts nginx
# (deploy/nginx.conf) in front of several, with TRUSTED_PROXIES=1 (README "Deployment").
EXPOSE 5000
CMD ["digitflow", "web", "--host", "0.0.0.0"]
