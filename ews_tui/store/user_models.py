"""The user's own device models: every ``*.toml`` in ``<data_dir>/models/``.

Same format as the built-in ``ews_tui/data/catalog/*.toml``; a user file may use the
built-in families and register maps, and a user model replaces a built-in one of the same
reference. A bad file is skipped with one problem line (``models/foo.toml: maps[0]...``);
it never stops the box.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ews_tui.domain.catalog import (
    Catalog,
    builtin_catalog,
    check_catalog,
    normalize_ref,
    parse_catalog,
)
from ews_tui.domain.errors import CatalogError
from ews_tui.domain.text_rules import printable
from ews_tui.store.toml_files import FileProblem, read_toml

log = logging.getLogger(__name__)

MODELS_FOLDER = "models"
EMPTY = Catalog(families=(), models=(), maps={})


def load_user_models(folder: Path, base: Catalog | None = None) -> tuple[Catalog, list[str]]:
    """The catalog of the valid files in ``folder`` and one problem line per bad file.

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
    problems: list[str] = []
    for path in sorted(folder.glob("*.toml")):
        name = printable(f"{folder.name}/{path.name}")
        try:
            catalog = parse_catalog([(name, read_toml(path, name))])
            _check_clashes(catalog, owners, name)
            check_catalog(base.merged(accepted).merged(catalog))
        except FileProblem as problem:
            problems.append(str(problem))
            continue
        except CatalogError as error:
            text = str(error)
            problems.append(text if text.startswith(name) else f"{name}: {text}")
            continue
        accepted = accepted.merged(catalog)
        owners |= {_map_key(m): name for m in catalog.maps}
        owners |= {normalize_ref(r): name for m in catalog.models for r in (m.ref, *m.aliases)}
    for line in problems:
        log.warning("user model file skipped: %s", line)
    return accepted, problems


def _map_key(map_id: str) -> str:
    return f"map:{map_id}"


def _check_clashes(catalog: Catalog, owners: dict[str, str], name: str) -> None:
    for map_id in catalog.maps:
        if (owner := owners.get(_map_key(map_id))) is not None:
            raise CatalogError(f"{name}: map {map_id!r} is already defined in {owner}")
    for model in catalog.models:
        for ref in (model.ref, *model.aliases):
            if (owner := owners.get(normalize_ref(ref))) is not None:
                raise CatalogError(f"{name}: model {ref!r} is already defined in {owner}")


def catalog_for(data_dir: Path) -> Catalog:
    """The built-in catalog with the user's models of ``data_dir`` (bad files skipped)."""
    return catalog_and_problems(data_dir)[0]


def catalog_and_problems(data_dir: Path) -> tuple[Catalog, list[str]]:
    """Like :func:`catalog_for`, with one line per user model file that was skipped."""
    base = builtin_catalog()
    user, problems = load_user_models(Path(data_dir) / MODELS_FOLDER, base)
    return base.merged(user), problems
