"""The whole box in one Runtime: what ``ews serve`` and ``ews demo`` run.

Store, installation, settings, authentication, live values, the recorder, consumption, the
CSV folders, the alarm engine, the system watch, the bus pollers and the optional Modbus TCP
server, started in order and stopped in reverse.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from ews_tui.config import Config, load_config
from ews_tui.domain.auth import DEFAULT_SCRYPT, ScryptParams
from ews_tui.domain.consumption import device_max_rate
from ews_tui.domain.events import UserModelSkipped
from ews_tui.runtime import Runtime
from ews_tui.services.alarms import AlarmEngine
from ews_tui.services.auth import AuthService
from ews_tui.services.backup import BackupService
from ews_tui.services.charging import ChargingService
from ews_tui.services.connector import ConnectorService
from ews_tui.services.consumption import ConsumptionService
from ews_tui.services.csv_folders import CsvFolders
from ews_tui.services.en50160 import En50160Checker
from ews_tui.services.installation import InstallationService
from ews_tui.services.live import LiveValues
from ews_tui.services.mailer import Mailer, alarm_mail_hook
from ews_tui.services.modbus_server import ModbusServerService
from ews_tui.services.polling import PollingService
from ews_tui.services.recorder import Recorder, Retention
from ews_tui.services.settings import NTP_PORT, SettingsService
from ews_tui.services.system_commands import CommandRunner
from ews_tui.services.system_watch import SystemWatch
from ews_tui.services.update import UpdateService
from ews_tui.store.aggregates_repo import AggregatesRepo
from ews_tui.store.db import DATABASE_FILE, open_database
from ews_tui.store.installation_repo import InstallationRepo
from ews_tui.store.user_models import ModelFileProblem, catalog_and_problems
from ews_tui.store.users_repo import UsersRepo


@asynccontextmanager
async def running_box(
    config_path: Path,
    config: Config | None = None,
    *,
    scrypt: ScryptParams = DEFAULT_SCRYPT,
    buses: bool = True,
    ntp_port: int = NTP_PORT,
    watch: bool = True,
    runner: CommandRunner | None = None,
) -> AsyncIterator[Runtime]:
    """A started Runtime for the box whose settings are ``config_path``; stopped on exit.

    ``buses=False`` leaves out the pollers and the Modbus TCP server (UI tests that must not
    reach for a serial port or gateways); everything else is the production box.
    ``watch=False`` leaves out the system watch (its "Box started" at the real time would
    be in every alarm list a UI test reads). ``runner`` runs timedatectl/networkctl (tests
    give one that records them; None: the real commands).
    """
    config = config if config is not None else load_config(config_path)
    async with AsyncExitStack() as stack:
        db = await open_database(config.data_dir / DATABASE_FILE)
        stack.push_async_callback(db.close)
        rt = Runtime(config)
        catalog, model_problems = catalog_and_problems(config.data_dir)
        installation = rt.add(
            InstallationService(
                InstallationRepo(db),
                rt.hub,
                catalog,
                config.licence,
                own_server=lambda: settings.config.own_server,
            )
        )
        settings = rt.add(
            SettingsService(
                config_path,
                rt.hub,
                config,
                ntp_port=ntp_port,
                gateways=lambda: installation.current.gateways,
                runner=runner,
            )
        )
        rt.add(AuthService(UsersRepo(db), rt.hub, params=scrypt))
        rt.add(LiveValues(rt.hub, supervisor=rt.supervisor))
        # Before the pollers: it subscribes at start and stops after them (nothing is lost).
        rt.add(
            Recorder(
                rt.hub,
                AggregatesRepo(db),
                retention=lambda: Retention(
                    settings.config.retention.measures_days,
                    settings.config.retention.energy_days,
                ),
                supervisor=rt.supervisor,
                max_rate=lambda d: device_max_rate(installation.current, installation.catalog, d),
            )
        )
        rt.add(
            ConsumptionService(
                db,
                rt.hub,
                installation=lambda: installation.current,
                catalog=lambda: installation.catalog,
                timezone=lambda: settings.config.time.timezone,
            )
        )
        rt.add(
            CsvFolders(
                db,
                rt.hub,
                config=lambda: settings.config,
                installation=lambda: installation.current,
                catalog=lambda: installation.catalog,
                supervisor=rt.supervisor,
            )
        )
        rt.add(  # before the pollers: it subscribes at start, nothing is missed
            ChargingService(
                db,
                rt.hub,
                installation=lambda: installation.current,
                catalog=lambda: installation.catalog,
                config=lambda: settings.config,
                supervisor=rt.supervisor,
            )
        )
        rt.add(ConnectorService(rt.hub, config=lambda: settings.config, supervisor=rt.supervisor))
        rt.add(
            BackupService(
                rt.hub,
                config=lambda: settings.config,
                config_path=config_path,
                supervisor=rt.supervisor,
            )
        )
        rt.add(
            Mailer(
                db,
                rt.hub,
                smtp=lambda: settings.config.smtp,
                timezone=lambda: settings.config.time.timezone,
                supervisor=rt.supervisor,
            )
        )
        # Before the pollers: it subscribes at start and stops after them (nothing is lost).
        alarm_engine = rt.add(
            AlarmEngine(
                db,
                rt.hub,
                installation=lambda: installation.current,
                catalog=lambda: installation.catalog,
                config=lambda: settings.config,
                supervisor=rt.supervisor,
            )
        )
        # A raise, clear or acknowledgement queues its mail in the alarm's own transaction.
        alarm_engine.add_transaction_hook(alarm_mail_hook(rt.hub))
        if watch:  # after the engine: it hears the start; stopped before it: it hears the stop
            rt.add(
                SystemWatch(
                    rt.hub,
                    data_dir=config.data_dir,
                    settings=lambda: settings.config.system,
                    supervisor=rt.supervisor,
                )
            )
        rt.add(
            En50160Checker(
                db,
                rt.hub,
                config=lambda: settings.config,
                installation=lambda: installation.current,
                catalog=lambda: installation.catalog,
                supervisor=rt.supervisor,
            )
        )
        rt.add(UpdateService(rt.hub, config=lambda: settings.config, runner=runner))
        if not buses:
            await rt.start()
            stack.push_async_callback(rt.stop)
            _tell_skipped(rt, model_problems)
            yield rt
            return
        polling = rt.add(
            PollingService(
                rt.hub,
                config=lambda: settings.config,
                installation=lambda: installation.current,
                catalog=lambda: installation.catalog,
                supervisor=rt.supervisor,
            )
        )
        rt.add(
            ModbusServerService(rt.hub, lambda: settings.config, polling, supervisor=rt.supervisor)
        )
        await rt.start()
        stack.push_async_callback(rt.stop)
        _tell_skipped(rt, model_problems)
        yield rt


def _tell_skipped(rt: Runtime, problems: list[ModelFileProblem]) -> None:
    """Each user model file skipped is a system event once per start (the alarm engine, started
    by now, lists it), besides its log line."""
    for problem in problems:
        rt.hub.publish(UserModelSkipped(problem.file, problem.place, problem.message))
