"""Brokers of a test's own: a ``nats-server -js`` or a ``mosquitto`` on a free loopback
port with its store in a temporary folder, which a test may stop and start again (the
store stays), never the shared services on 4222 and 1883."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.conftest import port_open, unavailable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class BrokerProcess:
    """One broker process; ``start`` waits until its port accepts connections and
    ``stop`` until the process has exited (SIGTERM: it saves its store first)."""

    def __init__(self, command: list[str], port: int, log: Path, url: str) -> None:
        self.command, self.port, self.log_path, self.url = command, port, log, url
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.process is None, "already running"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=log,
                                            stdin=subprocess.DEVNULL)
        wait_for(lambda: port_open("127.0.0.1", self.port) or self.process.poll() is not None,
                 30, f"{self.command[0]} on port {self.port}")
        if self.process.poll() is not None:
            raise AssertionError(f"{self.command[0]} exited: {self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def nats_server(folder: Path, *, jetstream: bool = True) -> BrokerProcess:
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    if not os.access(binary, os.X_OK):
        unavailable("nats-server (to start a NATS server of the test's own)")
    port = free_port()
    store = folder / "nats-store"
    store.mkdir()
    command = [binary, "-a", "127.0.0.1", "-p", str(port)]
    if jetstream:
        command += ["-js", "-sd", str(store)]
    return BrokerProcess(command, port, folder / "nats.log", f"nats://127.0.0.1:{port}")


def mosquitto(folder: Path) -> BrokerProcess:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not os.access(binary, os.X_OK):
        unavailable("mosquitto (to start an MQTT broker of the test's own)")
    port = free_port()
    store = folder / "mosquitto-store"
    store.mkdir()
    config = folder / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        "persistence true\n"
        f"persistence_location {store}/\n"
        f"log_dest file {folder / 'mosquitto.log'}\n"
        # run as root (containers), mosquitto would switch to its own user, who cannot
        # write the test's folder; as anyone else the setting has no effect
        f"user {getpass.getuser()}\n")
    return BrokerProcess([binary, "-c", str(config)], port, folder / "mosquitto.out",
                         f"mqtt://127.0.0.1:{port}")
