"""The user's own device models: every ``*.toml`` in ``<data_dir>/models/``.

Same format as the built-in ``ews_tui/data/catalog/*.toml``; a user file may use the
built-in families and register maps, and a user model replaces a built-in one of the same
reference. A bad file is skipped with one :class:`ModelFileProblem`
(``models/foo.toml: maps[0]...``), which each caller renders in its user's language; it
never stops the box.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ews_tui.domain.catalog import (
    Catalog,
    builtin_catalog,
    check_catalog,
    normalize_ref,
    parse_catalog,
)
from ews_tui.domain.errors import CatalogError
from ews_tui.domain.messages import N_, Message, placed
from ews_tui.domain.text_rules import printable
from ews_tui.store.toml_files import FileProblem, read_toml

log = logging.getLogger(__name__)

MODELS_FOLDER = "models"
EMPTY = Catalog(families=(), models=(), maps={})


@dataclass(frozen=True)
class ModelFileProblem:
    """Why a user model file was skipped.

    ``file`` is how the file is shown (``models/foo.toml``), ``where`` the place of the
    fault, file included (``models/foo.toml: maps[0].quantities[3].unit``,
    ``models/foo.toml:3:9``, or just the file), ``message`` what is wrong, to translate.
    ``str()`` is the English line (the log's).
    """

    file: str
    where: str
    message: Message

    @property
    def place(self) -> str:
        """``where`` without the file (``maps[0].unit``, ``3:9``); empty for the whole file."""
        if not self.where.startswith(self.file):
            return self.where
        return self.where[len(self.file) :].lstrip(":").strip()

    def render(self, gettext: Callable[[str], str] | None = None) -> str:
        return placed(self.where, self.message, gettext)

    def __str__(self) -> str:
        return self.render()


def load_user_models(
    folder: Path, base: Catalog | None = None
) -> tuple[Catalog, list[ModelFileProblem]]:
    """The catalog of the valid files in ``folder`` and one problem per bad file.

    Files are read in name order. ``base`` (the built-in catalog by default) is what a user
    file's families and maps may refer to. A file that redefines a reference or a map of an
    earlier user file is refused, so one file never silently breaks another.
    """
    base = builtin_catalog() if base is None else base
    folder = Path(folder)
    if not folder.is_dir():
        return EMPTY, []
    accepted = EMPTY
    owners: dict[str, str] = {}
    problems: list[ModelFileProblem] = []
    for path in sorted(folder.glob("*.toml")):
        name = printable(f"{folder.name}/{path.name}")
        try:
            catalog = parse_catalog([(name, read_toml(path, name))])
            _check_clashes(catalog, owners, name)
            check_catalog(base.merged(accepted).merged(catalog))
        except FileProblem as problem:
            problems.append(ModelFileProblem(name, problem.where, problem.message))
            continue
        except CatalogError as error:
            where = error.where if error.where.startswith(name) else f"{name}: {error.where}"
            problems.append(ModelFileProblem(name, where.rstrip(": "), error.message))
            continue
        accepted = accepted.merged(catalog)
        owners |= {_map_key(m): name for m in catalog.maps}
        owners |= {normalize_ref(r): name for m in catalog.models for r in (m.ref, *m.aliases)}
    for skipped in problems:
        log.warning("user model file skipped: %s", skipped)
    return accepted, problems


def _map_key(map_id: str) -> str:
    return f"map:{map_id}"


def _check_clashes(catalog: Catalog, owners: dict[str, str], name: str) -> None:
    for map_id in catalog.maps:
        if (owner := owners.get(_map_key(map_id))) is not None:
            message = Message(
                N_("map {map} is already defined in {file}"), {"map": repr(map_id), "file": owner}
            )
            raise CatalogError(name, message)
    for model in catalog.models:
        for ref in (model.ref, *model.aliases):
            if (owner := owners.get(normalize_ref(ref))) is not None:
                message = Message(
                    N_("model {ref} is already defined in {file}"),
                    {"ref": repr(ref), "file": owner},
                )
                raise CatalogError(name, message)


def catalog_for(data_dir: Path) -> Catalog:
    """The built-in catalog with the user's models of ``data_dir`` (bad files skipped)."""
    return catalog_and_problems(data_dir)[0]


def catalog_and_problems(data_dir: Path) -> tuple[Catalog, list[ModelFileProblem]]:
    """Like :func:`catalog_for`, with one problem per user model file that was skipped."""
    base = builtin_catalog()
    user, problems = load_user_models(Path(data_dir) / MODELS_FOLDER, base)
    return base.merged(user), problems
