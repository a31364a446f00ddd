"""``fonts_built``: an autouse fixture for browser test modules whose first step is a
staff page. The process's first page cuts the web-font subsets, which takes seconds on
a busy 2-core machine; done once here with a long timeout, outside the 5 s any single
step may take. Import it into the module: ``from tests.warm_fonts import fonts_built``."""

import pytest

_warm: list[bool] = []


@pytest.fixture(autouse=True)
def fonts_built(device):
    if not _warm:
        device().goto("/login", timeout=60000)
        _warm.append(True)
