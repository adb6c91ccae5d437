"""An alarm's detail that is a translatable message, kept as text in the alarm's row.

An alarm's ``detail`` is text (stored, written to the events CSV). Most details are a
msgid without placeholders, or words of a device; a detail with values to fill (a user model
file's fault) is stored as ``msg:`` and a JSON object (the place, the msgid, its
parameters) by :func:`message_detail`, and shown by :func:`render_detail` in the reader's
language (English in the CSV and the logs).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from ews_tui.domain.messages import Message

PREFIX = "msg:"


def message_detail(message: Message, where: str = "") -> str:
    """``message`` (at ``where``, a place shown as it is) as an alarm's detail."""
    document = {"where": where, **_encoded(message)}
    return PREFIX + json.dumps(document, ensure_ascii=False, sort_keys=True, default=str)


def _encoded(message: Message) -> dict[str, object]:
    """A message as JSON-ready data; a parameter that is a message is nested the same way."""
    params = {
        name: _encoded(value) if isinstance(value, Message) else value
        for name, value in message.params.items()
    }
    return {"msgid": message.msgid, "params": params}


def _decoded(msgid: str, params: Mapping[str, object]) -> Message:
    values: dict[str, object] = {}
    for name, value in params.items():
        if isinstance(value, Mapping) and set(value) == {"msgid", "params"}:
            inner_id, inner = value["msgid"], value["params"]
            if isinstance(inner_id, str) and isinstance(inner, Mapping):
                value = _decoded(inner_id, inner)
        values[name] = value
    return Message(msgid, values)


def detail_message(detail: str) -> tuple[str, Message] | None:
    """The place and the message of a detail made by :func:`message_detail`; None for any
    other detail (or a damaged one)."""
    if not detail.startswith(PREFIX):
        return None
    try:
        document = json.loads(detail[len(PREFIX) :])
    except ValueError:
        return None
    if not isinstance(document, Mapping):
        return None
    where, msgid, params = document.get("where"), document.get("msgid"), document.get("params")
    if not isinstance(where, str) or not isinstance(msgid, str) or not isinstance(params, Mapping):
        return None
    return where, _decoded(msgid, params)


def render_detail(detail: str, gettext: Callable[[str], str] | None = None) -> str:
    """The detail in words: translated with ``gettext`` (English without it). Never raises:
    a message whose translation does not fit its values is shown in English, a damaged one
    as it is stored."""
    found = detail_message(detail)
    if found is None:
        return gettext(detail) if gettext is not None and detail else detail
    where, message = found
    try:
        reason = message.render(gettext)
    except (KeyError, IndexError, ValueError, AttributeError):
        try:
            reason = message.render()
        except (KeyError, IndexError, ValueError, AttributeError):
            return detail
    return f"{where}: {reason}" if where else reason
