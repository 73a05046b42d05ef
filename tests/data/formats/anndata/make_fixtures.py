"""Regenerate the .h5ad fixtures of tests/test_format_anndata.py (deterministic).

- ``bulk_acc.h5ad``: the first 30 samples x first 100 genes of
  ``/work/shared/data/tcga_acc/expression_rsem_normalized.tsv`` (TCGA-ACC RSEM normalised
  normalised expression, linear scale) as a bulk AnnData: obs = samples (TCGA barcodes),
  var = genes, dense X, and a layer ``log2`` = log2(X + 1).
- ``singlecell.h5ad``: simulated single-cell counts: 8 patients (TCGA-ACC patient
  barcodes) with 5..60 cells each plus 4 cells without a patient, 200 genes, negative
  binomial counts (gene means log-normal, dispersion 0.5), sparse CSR float32 X, a
  ``counts`` layer (same counts, CSR), obs ``patient`` and ``cell_type``.

Run: ``.venv/bin/python tests/data/formats/anndata/make_fixtures.py``.
"""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import polars as pl
import scipy.sparse as sp

HERE = Path(__file__).parent
SOURCE = Path("/work/shared/data/tcga_acc/expression_rsem_normalized.tsv")
PATIENTS = (
    "TCGA-OR-A5J1",
    "TCGA-OR-A5J2",
    "TCGA-OR-A5J3",
    "TCGA-OR-A5J5",
    "TCGA-OR-A5J6",
    "TCGA-OR-A5J7",
    "TCGA-OR-A5J8",
    "TCGA-OR-A5J9",
)
CELLS = (5, 60, 12, 8, 33, 10, 47, 21)  # two patients below the default min_cells=10


def bulk() -> None:
    frame = pl.read_csv(SOURCE, separator="\t").head(100)
    samples = frame.columns[1:31]
    values = frame.select(samples).to_numpy().T.astype(np.float64)
    adata = ad.AnnData(
        X=values,
        obs=pd.DataFrame(index=pd.Index(samples, name="sample")),
        var=pd.DataFrame(index=pd.Index(frame["feature"].to_list(), name="gene")),
    )
    adata.layers["log2"] = np.log2(values + 1.0)
    adata.write_h5ad(HERE / "bulk_acc.h5ad", compression="gzip")


def single_cell() -> None:
    rng = np.random.default_rng(20261123)
    n_genes = 200
    labels = [p for p, n in zip(PATIENTS, CELLS, strict=True) for _ in range(n)] + [None] * 4
    order = rng.permutation(len(labels))
    patients = [labels[i] for i in order]
    mean = rng.lognormal(mean=0.0, sigma=1.5, size=n_genes)
    dispersion = 0.5
    p = 1.0 / (1.0 + mean * dispersion)
    counts = rng.negative_binomial(1.0 / dispersion, p, size=(len(patients), n_genes))
    x = sp.csr_matrix(counts.astype(np.float32))
    obs = pd.DataFrame(
        {
            "patient": pd.Categorical(patients),
            "cell_type": pd.Categorical(
                rng.choice(["tumour", "T cell", "macrophage", "fibroblast"], size=len(patients))
            ),
        },
        index=pd.Index([f"cell{i:04d}" for i in range(len(patients))], name="cell"),
    )
    var = pd.DataFrame(index=pd.Index([f"GENE{j:03d}" for j in range(n_genes)], name="gene"))
    adata = ad.AnnData(X=x, obs=obs, var=var)
    adata.layers["counts"] = x.copy()
    adata.write_h5ad(HERE / "singlecell.h5ad", compression="gzip")


if __name__ == "__main__":
    bulk()
    single_cell()
