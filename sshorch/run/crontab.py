"""The crontab entry that runs `sshorch converge`: pure rendering, and the crontab I/O."""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass

from sshorch.durations import parse_duration
from sshorch.errors import SshorchError

MARKER = "# sshorch-converge:"


def render_schedule(every: str) -> str:
    """--every 1m / 5m / 1h -> the cron schedule fields (minute granularity)."""
    seconds = parse_duration(every)
    minutes = int(seconds // 60)
    if seconds % 60 or minutes < 1:
        raise SshorchError(f"--every {every}: cron runs whole minutes (1m, 5m, 1h, ...)")
    if minutes < 60:
        return f"*/{minutes} * * * *"
    if minutes % 60 == 0 and minutes <= 24 * 60:
        hours = minutes // 60
        return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
    raise SshorchError(f"--every {every}: use minutes below 60 or whole hours")


@dataclass(frozen=True)
class CronJob:
    """The crontab entry that runs `sshorch converge` for one cluster, appending its output to `log`."""

    cluster: str
    schedule: str
    command: tuple[str, ...]
    log: str

    def line(self) -> str:
        """cron ends a command at a newline and makes every unescaped `%` one: a path with a
        newline cannot be run from cron, and a `%` is written `\\%`."""
        for part in (*self.command, self.log):
            if "\n" in part or "\r" in part:
                raise SshorchError(f"{part!r}: cron cannot run a command with a line break in it; use another path")
        command = f"{shlex.join(self.command)} >> {shlex.quote(self.log)} 2>&1".replace("%", "\\%")
        return f"{self.schedule} {command} {MARKER}{self.cluster}"


def without_entry(crontab: str, cluster: str) -> str:
    lines = [line for line in crontab.splitlines() if not line.endswith(f"{MARKER}{cluster}")]
    return "\n".join(lines) + ("\n" if lines else "")


def with_entry(crontab: str, job: CronJob) -> str:
    """The crontab with exactly one entry for the cluster (replacing an older one)."""
    return without_entry(crontab, job.cluster) + job.line() + "\n"


def find_entry(crontab: str, cluster: str) -> str | None:
    return next((line for line in crontab.splitlines() if line.endswith(f"{MARKER}{cluster}")), None)


def read_crontab() -> str:
    try:
        done = subprocess.run(["crontab", "-l"], capture_output=True, text=True)
    except FileNotFoundError:
        raise SshorchError("crontab is missing: apt-get install cron") from None
    # "no crontab for root" is an empty crontab, not an error.
    return done.stdout if done.returncode == 0 else ""


def write_crontab(text: str) -> None:
    done = subprocess.run(["crontab", "-"], input=text, capture_output=True, text=True)
    if done.returncode != 0:
        raise SshorchError(f"crontab: {done.stderr.strip() or 'could not be written'}")


def cron_running() -> bool:
    return subprocess.run(["pgrep", "-x", "cron"], capture_output=True).returncode == 0
