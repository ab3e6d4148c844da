"""The LiteLLM proxy for the gateway comparison: installed in a throwaway venv (never a
Switchboard dependency) and run as a subprocess in front of the same fake LLM.

    with litellm_proxy(ensure_venv(path), llm_url) as proxy: ...

It runs offline (the bundled model cost map, no telemetry) with one worker and a master
key, so it checks a bearer on every request as we do; with no database it keeps no
budgets or spend logs."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DEFAULT_VENV = Path.home() / ".cache" / "switchboard-bench" / "litellm-venv"

_CONFIG = """model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {api_base}
      api_key: sk-bench
litellm_settings:
  telemetry: false
general_settings:
  master_key: {master_key}
"""
_OFFLINE = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # else it fetches the cost map from GitHub
    "LITELLM_TELEMETRY": "False",
    "LITELLM_LOG": "ERROR",
    "LITELLM_MODE": "PRODUCTION",  # do not read a .env from the working directory
    "NO_DOCS": "True",
}


@dataclass(frozen=True)
class Proxy:
    url: str  # .../v1/chat/completions
    key: str
    pid: int


def _version(venv: Path) -> str | None:
    probe = "import importlib.metadata as m, fastapi, uvicorn, backoff; print(m.version('litellm'))"
    python = venv / "bin" / "python"
    if not (venv / "bin" / "litellm").exists() or not python.exists():
        return None
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def ensure_venv(venv: Path) -> tuple[Path, str]:
    """The venv with `litellm[proxy]` in it and LiteLLM's version, installing if need be."""
    if version := _version(venv):
        return venv, version
    print(f"installing litellm[proxy] into {venv} (a throwaway venv) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", venv], check=True)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "litellm[proxy]"], check=True)
    if not (version := _version(venv)):
        raise RuntimeError(f"litellm[proxy] did not install into {venv}")
    return venv, version


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_alive(base: str, proc: subprocess.Popen[bytes], log: Path, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{base}/health/liveliness", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    tail = log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"LiteLLM proxy did not come up at {base}; its log ends:\n{tail}")


@contextmanager
def litellm_proxy(venv: Path, llm_url: str, workdir: Path) -> Iterator[Proxy]:
    key = f"sk-{secrets.token_hex(16)}"
    config = workdir / "config.yaml"
    config.write_text(_CONFIG.format(api_base=llm_url, master_key=key))
    port = _free_port()
    log = workdir / "litellm.log"
    command = [venv / "bin" / "litellm", "--config", config, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--num_workers", "1"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            env={**os.environ, **_OFFLINE},
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed whole at the end
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_alive(base, proc, log, within=120)
        yield Proxy(f"{base}/v1/chat/completions", key, proc.pid)
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
