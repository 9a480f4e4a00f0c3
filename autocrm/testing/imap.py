"""A real IMAP server for tests: Debian's Dovecot, one private instance per test.

``Dovecot`` writes a config into a temporary directory and runs ``dovecot -F`` as a child
(ready in well under a second, gone with the test run: PR_SET_PDEATHSIG). It serves plain
IMAP on a free 127.0.0.1 port with one user per ``users`` entry, and offers IDLE. Run as
root, the mail processes run as the ``dovecot`` system user; as anyone else, as that user.
Install it with ``apt-get install dovecot-imapd`` (``make dovecot`` does, as root).
"""

from __future__ import annotations

import ctypes
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PR_SET_PDEATHSIG = 1


def dovecot_available() -> bool:
    return Path(DOVECOT).exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Dovecot:
    def __init__(self, users: dict[str, str]) -> None:
        self.users = users
        self.port = _free_port()
        # Not pytest's tmp dir: that is 0700, and the mail processes run as another user.
        self.root = Path(tempfile.mkdtemp(prefix="autocrm-dovecot-"))
        self.root.chmod(0o755)
        self.process: subprocess.Popen[bytes] | None = None

    def _config(self) -> str:
        root = self.root
        if os.geteuid() == 0:
            account = pwd.getpwnam("dovecot")
            internal, group, login, chroot = "dovecot", "dovecot", "dovenull", ""
        else:  # no other user to switch to: everything runs as us, and nothing chroots
            account = pwd.getpwuid(os.geteuid())
            internal = login = account.pw_name
            group = grp.getgrgid(account.pw_gid).gr_name
            chroot = "  chroot =\n"
        uid, gid = account.pw_uid, account.pw_gid
        return f"""protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = imaptest-{self.port}
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
last_valid_gid = {gid}
mail_location = maildir:{root}/mail/%n
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%n
}}
service imap-login {{
{chroot}  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
{chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""

    def start(self) -> None:
        (self.root / "users").write_text(
            "".join(f"{user}:{password}\n" for user, password in self.users.items())
        )
        mail = self.root / "mail"
        mail.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            account = pwd.getpwnam("dovecot")
            os.chown(mail, account.pw_uid, account.pw_gid)
        (self.root / "dovecot.conf").write_text(self._config())
        self.process = subprocess.Popen(  # noqa: S603 - a fixed binary and our own config
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                log_file = self.root / "dovecot.log"
                log = log_file.read_text(errors="replace") if log_file.exists() else ""
                raise RuntimeError(f"dovecot did not start: {log}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def client(self, user: str) -> imaplib.IMAP4:
        """A logged-in plain IMAP connection (the customer side: APPEND, look at flags)."""
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(user, self.users[user])
        return conn

    def deliver(self, user: str, *messages: bytes, folder: str = "INBOX") -> None:
        """Put mail in the user's folder (what an MTA's delivery does)."""
        conn = self.client(user)
        try:
            for raw in messages:
                typ, data = conn.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
                assert typ == "OK", data
        finally:
            conn.logout()
