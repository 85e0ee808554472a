"""Run inside a fresh network namespace (root): a command is running on a real SSH
peer on loopback when every packet of the connection starts being dropped.
Prints JSON: how long after the drop the command ended, and how.

Used by test_dead_peer.py; by hand: unshare --net python dead_peer_probe.py 2
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sshpeer import new_key, running_peer

from sshorch.transport.connection import ConnectOptions, SshTarget, connect


def main(connect_timeout: float) -> None:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    key = new_key()
    with running_peer(key) as peer, tempfile.TemporaryDirectory() as home:
        known_hosts = Path(home) / "known_hosts"
        known_hosts.write_text(peer.known_hosts_line())
        options = ConnectOptions(known_hosts=known_hosts, connect_timeout=connect_timeout)
        conn = connect(SshTarget("peer", peer.address, peer.port), options, key)
        outcome: dict[str, object] = {}

        def run() -> None:
            try:
                conn.run(["sleep", "120"], timeout=300)
                outcome["error"] = None
            except Exception as error:  # what the caller would see
                outcome["error"] = f"{type(error).__name__}: {error}"
            outcome["ended"] = time.monotonic()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        time.sleep(1.0)
        for rule in (["--dport", str(peer.port)], ["--sport", str(peer.port)]):
            subprocess.run(["iptables", "-I", "INPUT", "-p", "tcp", *rule, "-j", "DROP"], check=True)
        dropped = time.monotonic()
        thread.join(connect_timeout + 60)
        ended = outcome.get("ended")
        print(json.dumps({
            "connect_timeout": connect_timeout,
            "seconds_after_drop": None if ended is None else round(float(ended) - dropped, 2),  # type: ignore[arg-type]
            "error": outcome.get("error"),
        }))
        conn.close()


if __name__ == "__main__":
    main(float(sys.argv[1]))
