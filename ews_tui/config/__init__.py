"""The box settings (``config.toml``): read, checked, changed and saved.

    config = load_config(path)                      # ConfigError lists every problem
    config.rs485.baudrate, config.rs485.parity.letter, config.ssh.listen.port
    new = apply_changes(config, {"rs485.baudrate": 9600, "language": "fr"}, path.parent)
    save_config(new, path)                          # atomic; keeps [installation]

``apply_changes`` takes values as the TOML file spells them and runs the same checks as
loading, so a bad value from a settings form is refused with ``rs485.baudrate: ...``;
``check_changes`` returns those problems without raising, for live validation. Each
:class:`Problem` renders in a session's language with ``problem.render(gettext)``.
"""

from ews_tui.config.errors import ConfigError, Problem
from ews_tui.config.file import default_config, load_config, read_document, save_config
from ews_tui.config.model import (
    COLOR_DEPTHS,
    CONSOLE_BAUDRATES,
    DEFAULT_DATA_DIR,
    LANGUAGES,
    LICENCES,
    MAX_DNS_SERVERS,
    RS485_BAUDRATES,
    Config,
    ConnectorSettings,
    ConsoleSettings,
    CsvSettings,
    HostPort,
    KioskSettings,
    ModbusTcpServerSettings,
    NetworkBackend,
    NetworkSettings,
    Parity,
    Rs485Settings,
    SmtpSecurity,
    SmtpSettings,
    SshSettings,
    SshUser,
    Theme,
    TimeBackend,
    TimeSettings,
    UiSettings,
)
from ews_tui.config.reader import (
    apply_changes,
    check_changes,
    check_config,
    find_problems,
    parse_config,
    to_document,
)

__all__ = [
    "COLOR_DEPTHS",
    "CONSOLE_BAUDRATES",
    "DEFAULT_DATA_DIR",
    "LANGUAGES",
    "LICENCES",
    "MAX_DNS_SERVERS",
    "RS485_BAUDRATES",
    "Config",
    "ConfigError",
    "ConnectorSettings",
    "ConsoleSettings",
    "CsvSettings",
    "HostPort",
    "KioskSettings",
    "ModbusTcpServerSettings",
    "NetworkBackend",
    "NetworkSettings",
    "Parity",
    "Problem",
    "Rs485Settings",
    "SmtpSecurity",
    "SmtpSettings",
    "SshSettings",
    "SshUser",
    "Theme",
    "TimeBackend",
    "TimeSettings",
    "UiSettings",
    "apply_changes",
    "check_changes",
    "check_config",
    "default_config",
    "find_problems",
    "load_config",
    "parse_config",
    "read_document",
    "save_config",
    "to_document",
]
