"""The one-line errors of the analysis faces, and the check for an optional library."""

from __future__ import annotations

import importlib
from types import ModuleType

from plastilab.core.errors import PlastilabError


class AnalysisError(PlastilabError):
    """A folder that is not a run or a study, a bad format name, a missing optional library."""

    exit_code = 2


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import an optional library, or stop with one line that names the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise AnalysisError(
            f"{purpose} needs the {package} package: pip install 'plastilab[{extra}]'"
        ) from None
