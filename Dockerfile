FROM python:3.11-slim
WORKDIR /app
RUN useradd --create-home switchboard
COPY pyproject.toml README.md ./
COPY core core
COPY storage storage
COPY bots bots
RUN pip install --no-cache-dir .
USER switchboard
CMD ["python", "-m", "bots", "run"]
