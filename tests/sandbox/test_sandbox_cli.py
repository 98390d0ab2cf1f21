"""`python -m bank_sandbox` as a process: start, serve, stop; port in use; bad arguments."""

import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests

from sandbox_helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]


def run(*args, timeout=20):
    return subprocess.run(
        [sys.executable, "-m", "bank_sandbox", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_port_in_use_exits_2_with_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("--port", str(port), "--state", str(tmp_path / "s"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(port) in lines[0] and "in use" in lines[0] and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_bad_fault_argument_is_a_usage_error(tmp_path):
    result = run("--port", "0", "--state", str(tmp_path), "--fault", "gremlins=1")
    assert result.returncode == 2 and "gremlins" in result.stderr and "Traceback" not in result.stderr


def test_serves_and_stops_on_sigterm(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bank_sandbox",
            "--port",
            str(port),
            "--state",
            str(tmp_path / "state"),
            "--terminal",
            "Cli:secret",
            "--fault",
            "latency=1",
            "--notify-interval",
            "0.1",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        http = requests.Session()
        http.trust_env = False

        def health():
            try:
                return http.get(f"http://127.0.0.1:{port}/_admin/health", timeout=1).json()
            except requests.ConnectionError:
                return None

        answer = wait_until(health, timeout=10, interval=0.05)
        assert answer["faults"]["latency"] == 1
        from sandbox_helpers import Api

        api = Api(f"http://127.0.0.1:{port}", "Cli", "secret")
        payment_id = api.init(Description="secret-description")["PaymentId"]
        token = api.signed({"PaymentId": payment_id})["Token"]
        api.call("GetState", PaymentId=payment_id)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "POST /v2/Init 200" in stderr and "POST /v2/GetState 200" in stderr
    assert token not in stderr and "secret" not in stderr.replace("secret-description", "")
    assert (tmp_path / "state" / "state.json").exists()
