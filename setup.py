"""Compiles the message catalogs (``.po`` -> ``.mo``) as part of every install.

Everything else about the package is in ``pyproject.toml``. A regular build compiles
into the build tree (so the wheel carries the ``.mo`` files); an editable install
(``pip install -e``) compiles next to the ``.po`` files in the source tree.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


def _compile(root: Path) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in sorted(root.glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as f:
            catalog = read_po(f)
        with po.with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)


class build_py_with_catalogs(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            _compile(Path(__file__).resolve().parent / "server" / "translations")
        else:
            _compile(Path(self.build_lib) / "server" / "translations")


setup(cmdclass={"build_py": build_py_with_catalogs})
