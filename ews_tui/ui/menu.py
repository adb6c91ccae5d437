"""The home menus of the manual and who may open what (manual §7.7, §7.16).

The manual's home page has three areas: Consultation, System configuration (reached with a
system configuration PIN, §7.16) and Server configuration (reached with a server
configuration PIN, §7.7.1). Here a role sees only what it may open:

- consultation: Consultation;
- system configuration: Consultation and System configuration;
- server configuration: Consultation and Server configuration.

An entry names the screen module it opens (``ews_tui/ui/screens/<screen>.py``); ``None``
means its issue has not landed yet and the "coming" screen shows instead. Labels are msgids,
translated where shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ews_tui.domain.auth import Role
from ews_tui.i18n import N_


@dataclass(frozen=True)
class MenuEntry:
    key: str  # stable id (option id, palette, tests)
    label: str  # msgid
    help: str  # msgid: one line for the help screen
    screen: str | None  # module under ews_tui/ui/screens/, None: "coming"


@dataclass(frozen=True)
class MenuSection:
    key: str
    label: str  # msgid
    roles: frozenset[Role]
    entries: tuple[MenuEntry, ...]


E = MenuEntry
ALL_ROLES = frozenset(Role)

MENU: tuple[MenuSection, ...] = (
    MenuSection(
        "consultation",
        N_("Consultation"),
        ALL_ROLES,
        (
            E("live", N_("Live measures"), N_("The values of each device, live."), "live"),
            E(
                "consumption",
                N_("Consumption"),
                N_("Consumption tables and charts."),
                "consumption_total",
            ),
            E("costs", N_("Costs"), N_("The cost of the consumption."), "consumption_costs"),
            E("alarms", N_("Alarms"), N_("Active and past alarms."), "alarms"),
            E("en50160", N_("EN 50160"), N_("The weekly voltage quality verdict."), "en50160"),
        ),
    ),
    MenuSection(
        "system",
        N_("System configuration"),
        frozenset({Role.SYSTEM}),
        (
            E(
                "gateways",
                N_("Gateways and devices"),
                N_("Add, test and set up gateways and their devices."),
                "gateways",
            ),
            E(
                "groups",
                N_("Circuits, zones and switchboards"),
                N_("Group the devices into circuits, zones and switchboards."),
                "groups",
            ),
            E("cost_rules", N_("Cost of consumption"), N_("Tariffs and cost rules."), "cost_rules"),
            E("greenup", N_("Green'Up"), N_("Electric vehicle charging points."), "greenup"),
        ),
    ),
    MenuSection(
        "server",
        N_("Server configuration"),
        frozenset({Role.SERVER}),
        (
            E(
                "network",
                N_("Network"),
                N_("IP address, mask and gateway of the box."),
                "settings_network",
            ),
            E(
                "modbus",
                N_("Modbus RS485"),
                N_("Parity, stop bits, speed, timeout, Modbus TCP server."),
                "settings_modbus",
            ),
            E("time", N_("Date and time"), N_("Time zone and NTP server."), "settings_time"),
            E(
                "language",
                N_("Language"),
                N_("The default language of the box."),
                "settings_language",
            ),
            E(
                "csv",
                N_("CSV and other settings"),
                N_("The CSV folders and how long history is kept."),
                "settings_csv",
            ),
            E(
                "connector",
                N_("Connector"),
                N_("Send the CSV folders to a server."),
                "connector",
            ),
            E(
                "notifications",
                N_("E-mail and notifications"),
                N_("Who gets the alarm e-mails."),
                "settings_smtp",
            ),
            E("update", N_("Update"), N_("Update the software."), None),
            E(
                "users",
                N_("Users and PINs"),
                N_("The PIN and PUK of each role."),
                "settings_users",
            ),
            E(
                "backup",
                N_("Backup"),
                N_("Back up the whole box now or every night; the list of backups."),
                "backup",
            ),
        ),
    ),
)

ROLE_NAMES: dict[Role, str] = {
    Role.SERVER: N_("Server configuration"),
    Role.SYSTEM: N_("System configuration"),
    Role.CONSULTATION: N_("Consultation"),
}


def sections_for(role: Role | None) -> tuple[MenuSection, ...]:
    """The sections ``role`` sees, in the manual's order (none before login)."""
    return tuple(s for s in MENU if role is not None and role in s.roles)


def entries() -> Iterator[tuple[MenuSection, MenuEntry]]:
    for section in MENU:
        for entry in section.entries:
            yield section, entry


def entry_for_screen(screen: str) -> MenuEntry | None:
    """The menu entry that opens ``screen``, if one does."""
    return next((e for _s, e in entries() if e.screen == screen), None)


def may_open(role: Role | None, screen: str) -> bool:
    """Whether ``role`` may open ``screen``: a menu screen needs a section of the role;
    screens outside the menu (login, help, forms opened by a screen) are not gated here."""
    gating = [s for s, e in entries() if e.screen == screen]
    return not gating or any(role is not None and role in s.roles for s in gating)
