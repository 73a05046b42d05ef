"""survomics: multi-omics biomarker discovery with survival outcomes.

The package holds all logic of the survomics Snakemake workflow; rule scripts under
``scripts/`` only translate the ``snakemake`` object into calls of these functions.
"""

import os
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ISOLATION_VARIABLE = "SURVOMICS_ISOLATED"
"""Set to ``1`` (by survomics' environment modules) to run on the job's own packages only."""


def _isolate() -> list[str]:
    """Drop ``sys.path`` entries foreign to this interpreter; return the ones dropped.

    Snakemake appends the controller's ``sys.path`` to every Python script job (so that
    the job can unpickle its ``snakemake`` object). A job running in its own environment
    would then silently import a package its environment lacks from the controller's.
    With ``SURVOMICS_ISOLATED=1`` only the interpreter's own paths (its prefix and base
    prefix) and the survomics source remain, so such an import fails.
    """
    source = str(Path(__file__).resolve().parent.parent)
    own = tuple(str(Path(p).resolve()) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})
    kept, dropped = [], []
    for entry in sys.path:
        resolved = str(Path(entry or ".").resolve())
        if resolved == source or any(
            resolved == root or resolved.startswith(root + os.sep) for root in own
        ):
            kept.append(entry)
        else:
            dropped.append(entry)
    sys.path[:] = kept
    return dropped


ISOLATION_DROPPED: list[str] = _isolate() if os.environ.get(ISOLATION_VARIABLE) == "1" else []
"""``sys.path`` entries dropped by the isolation (logged by every rule)."""

try:
    __version__ = version("survomics")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["ISOLATION_DROPPED", "ISOLATION_VARIABLE", "__version__"]
