# The tracker: one image for every process (web/API, migration, workers, scheduler).
# Build: docker build -t tracker .     Run: see compose.yaml and docs/workers.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY events ./events
COPY tracker ./tracker
COPY projections ./projections
COPY workers ./workers
COPY bench ./bench
RUN pip install . \
    && useradd --system --uid 10001 --no-create-home --home-dir /app tracker

# No secrets in the image: TRACKER_MASTER_KEY, TRACKER_DATABASE_URL, TRACKER_REDIS_URL, ...
# come from the environment at run time.
USER tracker
EXPOSE 8000 9191
CMD ["tracker", "serve", "--host", "0.0.0.0", "--port", "8000"]
