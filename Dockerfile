# One image for the API and both worker roles; the role is chosen by command + CC_WORKER_ROLES.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock ./
# Production talks to Ollama: no embedded weights, no Temporal dev binaries, no dev tools.
RUN uv sync --frozen --no-default-groups --no-install-project
COPY . .
RUN useradd --system --uid 10001 app
USER app
EXPOSE 8000
CMD ["python", "-m", "api.main"]
