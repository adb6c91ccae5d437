"""The wheel carries the catalogs: ``locales/`` (beside the package in the source tree, where
translators and ``scripts/i18n.sh`` work) is copied into ``ews_tui/locales`` of the built
package, where :mod:`ews_tui.i18n` looks when there is no ``locales`` beside it. A new
language is still only a catalog. The project's metadata is in ``pyproject.toml``."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogs(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads locales/ beside the package
        source = Path(__file__).resolve().parent / "locales"
        target = Path(self.build_lib) / "ews_tui" / "locales"
        for catalog in sorted(source.glob("*/LC_MESSAGES/*.po")):
            copy = target / catalog.relative_to(source)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(catalog, copy)


setup(cmdclass={"build_py": BuildWithCatalogs})
