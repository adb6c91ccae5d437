"""Modbus RTU for the simulator: CRC16, request framing, a served serial fd, pty pairs.

A pty does not enforce the baud rate and cannot set parity: the simulator opens a pty with
the settings :func:`~ews_tui.modbus.serial_line.line_settings` gives (parity dropped) and
emulates the wire time itself (see :mod:`ews_tui.sim.server`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import struct
import tty
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ews_tui.modbus.serial_line import LineSettings, line_settings

log = logging.getLogger(__name__)

STALE_S = 0.1  # a partial frame older than this is line noise: dropped
Reply = Callable[[bytes, bool], None]  # (response PDU, corrupt it)
Submit = Callable[[int, bytes, Reply], None]  # (address, request PDU, reply)


def crc16(data: bytes | bytearray) -> int:
    """Modbus RTU CRC16 (poly 0xA001, init 0xFFFF); sent low byte first."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _with_crc(body: bytes, corrupt: bool = False) -> bytes:
    crc = crc16(body) ^ (0xFFFF if corrupt else 0)
    return body + struct.pack("<H", crc)


@dataclass
class WireCount:
    """What crossed one served line at the simulator's side: bytes and frames each way.

    Raw bytes as read and written (noise and bad frames included); benches turn them into
    the line's time at its configured settings.
    """

    bytes_in: int = 0
    bytes_out: int = 0
    frames_in: int = 0
    frames_out: int = 0


@dataclass
class PtyPair:
    """A pseudo-terminal pair: the simulator serves ``server_fd``, clients open ``path``."""

    server_fd: int
    client_fd: int  # kept open so the server side never reads EIO while no client is there
    path: str

    def close(self) -> None:
        for fd in (self.server_fd, self.client_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def open_pty_pair() -> PtyPair:
    """A raw pty pair from ``os.openpty`` (no process needed)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    tty.setraw(master)
    os.set_blocking(master, False)
    return PtyPair(master, slave, os.ttyname(slave))


def _rtu_frames(buffer: bytearray) -> list[bytes]:
    """Complete request frames at the head of ``buffer`` (consumed); bad CRCs are dropped."""
    frames = []
    while len(buffer) >= 4:
        fc = buffer[1]
        if fc in (1, 2, 3, 4, 5, 6):
            size = 8
        elif fc in (15, 16):
            if len(buffer) < 7:
                break
            size = 9 + buffer[6]
        else:
            size = next(
                (n for n in range(4, min(len(buffer), 256) + 1) if crc16(buffer[:n]) == 0), 0
            )
            if not size:
                break
        if len(buffer) < size:
            break
        frame = bytes(buffer[:size])
        if crc16(frame) == 0:  # a frame followed by its CRC checks to zero
            frames.append(frame)
            del buffer[:size]
        else:
            del buffer[:1]  # resynchronise on the next byte
    return frames


class RtuPort:
    """Reads requests from a serial fd and writes answers (a single-master RS485 bus)."""

    def __init__(self, fd: int, submit: Submit, label: str, wire: WireCount | None = None) -> None:
        self.fd, self.submit, self.label = fd, submit, label
        self.wire = wire or WireCount()
        self.buffer = bytearray()
        self.last_rx = 0.0
        self.loop = asyncio.get_running_loop()
        self.closed = False
        self._retry: asyncio.TimerHandle | None = None
        self.loop.add_reader(fd, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return
        except OSError as error:  # EIO: no client on the other side; retry a bit later
            log.debug("%s: read failed: %s", self.label, error)
            self.loop.remove_reader(self.fd)
            self._retry = self.loop.call_later(0.05, self._listen)
            return
        now = self.loop.time()
        if now - self.last_rx > STALE_S:
            self.buffer.clear()
        self.last_rx = now
        self.buffer += data
        self.wire.bytes_in += len(data)
        for frame in _rtu_frames(self.buffer):
            self.wire.frames_in += 1
            address = frame[0]
            if address == 0:
                continue  # broadcast: never answered
            self.submit(address, frame[1:-2], self._replier(address))

    def _replier(self, address: int) -> Reply:
        def reply(pdu: bytes, corrupt: bool) -> None:
            frame = _with_crc(bytes((address,)) + pdu, corrupt)
            self.wire.frames_out += 1
            while frame:
                try:
                    written = os.write(self.fd, frame)
                    self.wire.bytes_out += written
                    frame = frame[written:]
                except BlockingIOError:
                    log.debug("%s: output full, answer dropped", self.label)
                    return

        return reply

    def _listen(self) -> None:
        if not self.closed:
            self.loop.add_reader(self.fd, self._readable)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.loop.remove_reader(self.fd)
            if self._retry is not None:
                self._retry.cancel()


def open_serial(port: str | int, settings: LineSettings) -> tuple[int, Callable[[], Any], str]:
    """An fd to serve on, its closer and its name."""
    if isinstance(port, int):
        return port, lambda: None, f"fd {port}"
    import serial  # pyserial, a pymodbus dependency

    applied = line_settings(port, settings.baudrate, settings.parity, settings.stopbits)
    line = serial.Serial(
        port,
        baudrate=applied.baudrate,
        parity=applied.parity,
        stopbits=applied.stopbits,
        bytesize=applied.bytesize,
        timeout=0,
    )
    os.set_blocking(line.fileno(), False)
    return line.fileno(), line.close, port
