# Slim, non-root; dependencies sit in their own layer so a code change rebuilds only the last one.
FROM python:3.11-slim
WORKDIR /app
RUN useradd --create-home --uid 10001 switchboard
COPY pyproject.toml README.md ./
# Install the dependencies alone first (empty packages stand in for the code).
RUN mkdir core storage bots && touch core/__init__.py storage/__init__.py bots/__init__.py \
    && pip install --no-cache-dir . && pip uninstall -y switchboard && rm -rf core storage bots
COPY core core
COPY storage storage
COPY bots bots
RUN pip install --no-cache-dir --no-deps .
USER switchboard
CMD ["python", "-m", "bots", "run"]
