"""The deploy files name only settings and commands that exist."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bots.__main__ import _parser
from bots.runners import ADAPTERS
from bots.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {name.upper() for name in Settings.model_fields}
# Variables the images themselves read (Postgres' entrypoint), not Switchboard settings.
IMAGE_VARIABLES = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_compose_variable_is_a_setting():
    for name, service in compose()["services"].items():
        for variable in service.get("environment", {}) or {}:
            assert variable in SETTINGS | IMAGE_VARIABLES, f"{name}: unknown setting {variable}"


def test_every_compose_command_exists():
    services = compose()["services"]
    for name, service in services.items():
        command = service.get("command")
        if not command or command[:3] != ["python", "-m", "bots"]:
            continue
        args = _parser().parse_args(command[3:])
        assert args.command in {"run", "migrate", "console", "backup", "restore"}, name
        for adapter in getattr(args, "adapters", []) or []:
            assert adapter in ADAPTERS, f"{name}: unknown adapter {adapter}"
    # one scalable service per adapter
    assert set(ADAPTERS) <= set(services)


def test_env_example_and_readme_document_every_setting():
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert listed == SETTINGS
    missing = sorted(name for name in SETTINGS if f"`{name}`" not in readme)
    assert not missing, f"README does not document: {missing}"
