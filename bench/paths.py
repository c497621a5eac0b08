"""The client command line of each path through the testbed.

Every client gets -F /dev/null (no user or system config) plus the same options; the jump host's
inner `ssh -W` gets them too (plain -J would pass on only -F, so a cipher or KEX choice would not
reach the first hop, and host-key checking would fall back to ~/.ssh/known_hosts).
"""
import shlex
from dataclasses import dataclass
from typing import Callable, List, Optional

from testbed import USER, Testbed

COMMON = ["-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
          "-o", "LogLevel=error",
          # libssh 0.10 (the broker) cannot do sntrup761x25519: force the same KEX on every path.
          "-o", "KexAlgorithms=curve25519-sha256"]
TARGET = USER + "@127.0.0.1"


@dataclass
class Path:
    name: str
    middle: Optional[str]  # the testbed server between client and backend, if any
    argv: Callable[[Optional[str]], List[str]]  # cipher (None = default) -> client argv, sans command


def _cipher(cipher):
    return ["-c", cipher] if cipher else []


def _key_ssh(tb: Testbed, cipher):
    return ["ssh", *COMMON, *_cipher(cipher), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
            "-i", tb.client_key]


def _password_ssh(tb: Testbed, cipher):
    # sshpass reads the password from a 0600 file, never from argv.
    return ["sshpass", "-f", tb.password_file, "ssh", *COMMON, *_cipher(cipher),
            "-o", "PubkeyAuthentication=no",
            "-o", "PreferredAuthentications=password,keyboard-interactive",
            "-o", "NumberOfPasswordPrompts=1"]


def all_paths(tb: Testbed):
    p = tb.ports

    def jump(cipher):
        # What `ssh -J` runs as its ProxyCommand, with our options passed on to the first hop.
        hop = _key_ssh(tb, cipher) + ["-W", "%h:%p", "-p", str(p["jump"]), TARGET]
        return _key_ssh(tb, cipher) + ["-o", "ProxyCommand=" + shlex.join(hop),
                                       "-p", str(p["backend"]), TARGET]

    return [
        Path("direct", None, lambda c: _key_ssh(tb, c) + ["-p", str(p["backend"]), TARGET]),
        Path("jump", "jump", jump),
        Path("haproxy", "haproxy", lambda c: _key_ssh(tb, c) + ["-p", str(p["haproxy"]), TARGET]),
        Path("broker", "broker", lambda c: _password_ssh(tb, c) + ["-p", str(p["broker"]), TARGET]),
        *([Path("broker-b", "broker-b", lambda c: _password_ssh(tb, c) + ["-p", str(p["broker-b"]), TARGET])]
          if "broker-b" in p else []),
        # Password login straight to the backend, through sshpass like the broker: the setup-time
        # anchor that separates the broker's cost from that of sshpass and password auth.
        Path("direct-pw", None, lambda c: _password_ssh(tb, c) + ["-p", str(p["backend"]), TARGET]),
    ]
