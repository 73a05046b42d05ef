"""survomics: multi-omics biomarker discovery with survival outcomes.

The package holds all logic of the survomics Snakemake workflow; rule scripts under
``scripts/`` only translate the ``snakemake`` object into calls of these functions.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("survomics")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
