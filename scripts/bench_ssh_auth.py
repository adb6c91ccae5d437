#!/usr/bin/env python3
"""SSH password-guessing benchmark (issue 12, item 3). Prints ONE JSON line of figures.

(a) timing:   the time a wrong password takes for a known user and for an unknown one, same
              run, over the box's real asyncssh server with the production scrypt cost
              (N=2**14, r=8, p=1), attempts interleaved known/unknown; the penalty is off here
              so that only the password check is timed.
(b) per_conn: wrong passwords one connection can try before the box closes it (defaults).
(c) rate:     12 connections from one address guessing as fast as the box answers for
              ``--seconds``, reconnecting when closed: attempts per second with the production
              guard (max_auth_tries 6, growing per-address delay, max_startups 10), against a
              baseline in the same run with the guard off (the old behaviour).

Usage: scripts/bench_ssh_auth.py [--seconds S] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import asyncssh

from ews_tui.config import HostPort, SshSettings, SshUser, default_config, save_config
from ews_tui.domain.auth import ScryptParams
from ews_tui.frontends.ssh import SshFrontEnd, hash_password
from ews_tui.frontends.ssh_guard import SourcePenalty
from ews_tui.runtime import Runtime
from ews_tui.services.box import running_box

CHEAP = ScryptParams(n=2**4, r=1, p=1)


class Guesser(asyncssh.SSHClient):
    """Answers each password prompt with a new wrong password, noting when it was asked."""

    def __init__(self, asked: list[float], limit: int) -> None:
        self.asked = asked
        self.limit = limit

    def password_auth_requested(self) -> str | None:
        if len(self.asked) >= self.limit:
            return None
        self.asked.append(time.perf_counter())
        return f"guess-{len(self.asked)}"


async def connection(port: int, user: str, asked: list[float], limit: int = 10**9) -> None:
    """One connection guessing until the box closes it (or ``limit`` attempts)."""
    with contextlib.suppress(asyncssh.Error, OSError):
        await asyncssh.connect(
            "127.0.0.1",
            port,
            username=user,
            client_factory=lambda: Guesser(asked, limit),
            known_hosts=None,
            agent_path=None,
            client_keys=None,
            preferred_auth="password",
            login_timeout=600,
        )


async def front(
    rt: Runtime, data: Path, settings: SshSettings, penalty: SourcePenalty
) -> SshFrontEnd:
    ssh = SshFrontEnd(rt, settings, data / "host_key", None, penalty=penalty)
    await ssh.start()
    return ssh


async def timing(rt: Runtime, data: Path, base: SshSettings, rounds: int) -> dict[str, object]:
    settings = replace(base, max_auth_tries=100)
    ssh = await front(rt, data, settings, SourcePenalty(base=0.0))
    known: list[float] = []
    unknown: list[float] = []
    try:
        for _ in range(rounds):
            for user, into in (("installer", known), ("nobody", unknown)):
                asked: list[float] = []
                await connection(ssh.port, user, asked, limit=11)
                # The time between two prompts is one wrong password's round trip.
                into.extend(b - a for a, b in itertools.pairwise(asked))
    finally:
        await ssh.stop()
    ms = {
        name: {
            "median_ms": round(statistics.median(v) * 1000, 1),
            "p10_ms": round(statistics.quantiles(v, n=10)[0] * 1000, 1),
            "p90_ms": round(statistics.quantiles(v, n=10)[-1] * 1000, 1),
            "attempts": len(v),
        }
        for name, v in (("known_user", known), ("unknown_user", unknown))
    }
    return ms


async def per_connection(rt: Runtime, data: Path, base: SshSettings) -> int:
    ssh = await front(rt, data, base, SourcePenalty(base=0.0))
    try:
        asked: list[float] = []
        await connection(ssh.port, "installer", asked)
    finally:
        await ssh.stop()
    return len(asked)


async def rate(
    rt: Runtime, data: Path, settings: SshSettings, penalty: SourcePenalty, seconds: float
) -> dict[str, float]:
    ssh = await front(rt, data, settings, penalty)
    asked: list[float] = []
    deadline = time.perf_counter() + seconds

    async def attacker() -> None:
        while time.perf_counter() < deadline:
            await connection(ssh.port, "installer", asked)
            await asyncio.sleep(0.05)  # closed (or refused): connect again

    tasks = [asyncio.create_task(attacker()) for _ in range(12)]
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await ssh.stop()
    done = [t for t in asked if t <= deadline]
    return {"attempts": len(done), "per_s": round(len(done) / seconds, 2)}


async def main(seconds: float, rounds: int) -> dict[str, object]:
    logging.disable(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        config = replace(
            default_config(data), rs485=replace(default_config(data).rs485, enabled=False)
        )
        save_config(config, Path(tmp) / "config.toml")
        async with running_box(Path(tmp) / "config.toml", config, scrypt=CHEAP, buses=False) as rt:
            user = SshUser("installer", hash_password("the-right-one"))  # production cost
            base = SshSettings(enabled=True, listen=HostPort("127.0.0.1", 0), users=(user,))
            figures: dict[str, object] = {"scrypt": "N=16384 r=8 p=1"}
            figures["timing"] = await timing(rt, data, base, rounds)
            figures["attempts_per_connection"] = await per_connection(rt, data, base)
            figures["rate_12_connections"] = {
                "guarded": await rate(rt, data, base, SourcePenalty(), seconds),
                "baseline_unguarded": await rate(
                    rt,
                    data,
                    replace(base, max_auth_tries=100, max_startups=1000),
                    SourcePenalty(base=0.0),
                    seconds,
                ),
                "seconds": seconds,
            }
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    json.dump(asyncio.run(main(args.seconds, args.rounds)), sys.stdout)
    print()
