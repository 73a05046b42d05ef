"""Library-size and methylation transforms: oracles (pydeseq2, edgeR's formula), properties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survomics import normalize
from survomics.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
MIRNA = ROOT / "data" / "tcga_acc" / "mirna_counts.tsv"  # real TCGA-ACC miRNA read counts


def mirna() -> pl.DataFrame:
    frame = pl.read_csv(MIRNA, separator="\t")
    return frame.rename({frame.columns[0]: "feature"}).with_columns(
        pl.exclude("feature").cast(pl.Float64)
    )


def matrix(frame: pl.DataFrame) -> np.ndarray:
    return frame.drop("feature").to_numpy()


def edger_log_cpm(counts: np.ndarray, prior_count: float) -> np.ndarray:
    """edgeR::cpm(y, log=TRUE, prior.count) via addPriorCount, written out literally."""
    lib_size = counts.sum(axis=0)
    prior_scaled = lib_size / lib_size.mean() * prior_count
    lib_size_adjusted = lib_size + 2 * prior_scaled
    return np.log2((counts + prior_scaled[None, :]) / lib_size_adjusted[None, :] * 1e6)


# --- deseq2 -----------------------------------------------------------------------------


def test_deseq2_equals_pydeseq2_on_real_counts() -> None:
    from pydeseq2.preprocessing import deseq2_norm

    frame = mirna()
    counts = matrix(frame)
    assert (counts == 0).any()  # genes with zeros are left out of the reference
    expected, factors = deseq2_norm(counts.T)
    out = normalize.apply(frame, transform="deseq2", path="m.tsv")
    assert out.columns == frame.columns
    np.testing.assert_allclose(matrix(out), np.log2(1.0 + expected.T), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(normalize.size_factors(counts), factors, rtol=1e-12)


def test_deseq2_blocks_give_the_whole_matrix_result(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = mirna()
    whole = normalize.apply(frame, transform="deseq2", path="m.tsv")
    monkeypatch.setattr(normalize, "BLOCK_BYTES", 8 * frame.height * 3)  # 3 samples a block
    blocked = normalize.apply(frame, transform="deseq2", path="m.tsv")
    # same numbers, summed in another order
    np.testing.assert_allclose(matrix(blocked), matrix(whole), rtol=1e-14, atol=0)


def test_deseq2_missing_values_stay_missing_and_leave_the_reference() -> None:
    frame = mirna()
    counts = matrix(frame)
    positive = np.nonzero(np.all(counts > 0, axis=1))[0]
    holed = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == int(positive[0]))
        .then(None)
        .otherwise(pl.col(frame.columns[1]))
        .alias(frame.columns[1])
    )
    out = normalize.apply(holed, transform="deseq2", path="m.tsv")
    assert out[frame.columns[1]][int(positive[0])] is None
    assert out.drop("feature").null_count().sum_horizontal().item() == 1
    # the reference is the zero-free genes minus the holed one
    kept = np.delete(counts, positive[0], axis=0)
    logs = np.log(kept[np.all(kept > 0, axis=1)])
    factors = np.exp(np.median(logs - logs.mean(axis=1, keepdims=True), axis=0))
    np.testing.assert_allclose(matrix(out)[5], np.log2(1 + counts[5] / factors), rtol=1e-12)


def test_deseq2_without_zero_free_gene_is_an_input_error() -> None:
    frame = pl.DataFrame({"feature": ["g1", "g2"], "a": [0.0, 5.0], "b": [3.0, 0.0]})
    with pytest.raises(InputError, match=r"x\.tsv: no feature has a positive count in all 2"):
        normalize.apply(frame, transform="deseq2", path="x.tsv")


@pytest.mark.parametrize("transform", ["deseq2", "log_cpm"])
@pytest.mark.parametrize(("value", "why"), [(-1.0, "negative"), (2.5, "fractional")])
def test_counts_outside_the_domain_name_the_cell(transform: str, value: float, why: str) -> None:
    frame = pl.DataFrame({"feature": ["g1", "g2"], "a": [1.0, 5.0], "b": [3.0, value]})
    with pytest.raises(InputError, match=r"x\.tsv, column 'b': value .* of feature 'g2'") as err:
        normalize.apply(frame, transform=transform, path="x.tsv")
    assert "raw count" in str(err.value), why


# --- log_cpm ----------------------------------------------------------------------------


def test_log_cpm_equals_edger_formula_on_real_counts() -> None:
    frame = mirna()
    out = normalize.apply(frame, transform="log_cpm", path="m.tsv")
    expected = edger_log_cpm(matrix(frame), normalize.LOG_CPM_PRIOR_COUNT)
    np.testing.assert_allclose(matrix(out), expected, rtol=1e-13, atol=1e-13)


def test_log_cpm_properties() -> None:
    frame = mirna()
    out = matrix(normalize.apply(frame, transform="log_cpm", path="m.tsv"))
    counts = matrix(frame)
    # a zero count gets the same logCPM in every sample (the prior scales with depth)
    zeros = out[counts == 0]
    np.testing.assert_allclose(zeros, zeros[0], rtol=1e-12)
    # libraries of equal size: the prior is 0.5 everywhere, log2((y + 0.5) / (L + 1) * 1e6)
    equal = pl.DataFrame(
        {"feature": ["g1", "g2", "g3"], "a": [0.0, 10.0, 90.0], "b": [50.0, 50.0, 0.0]}
    )
    np.testing.assert_allclose(
        matrix(normalize.apply(equal, transform="log_cpm", path="m.tsv")),
        np.log2((matrix(equal) + 0.5) / 101.0 * 1e6),
        rtol=1e-14,
    )
    # within a sample the order of counts is kept
    for j in range(counts.shape[1]):
        order = np.argsort(counts[:, j], kind="stable")
        assert np.all(np.diff(out[order, j]) >= 0)


def test_log_cpm_empty_library_is_an_input_error() -> None:
    frame = pl.DataFrame({"feature": ["g1", "g2"], "a": [1.0, 5.0], "b": [0.0, 0.0]})
    with pytest.raises(InputError, match=r"column 'b': the sample has no counts"):
        normalize.apply(frame, transform="log_cpm", path="x.tsv")


# --- beta_to_m --------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=2, max_size=40, unique=True),
)
def test_beta_to_m_is_increasing_and_antisymmetric(betas: list[float]) -> None:
    values = np.sort(np.array(betas))
    m = normalize.beta_to_m(values)
    assert np.all(np.isfinite(m))
    assert np.all(np.diff(m) >= 0)  # ties only where clipping merges values
    inside = (values > normalize.BETA_EPSILON) & (values < 1 - normalize.BETA_EPSILON)
    assert np.all(np.diff(m[inside]) > 0)
    np.testing.assert_allclose(normalize.beta_to_m(1.0 - values), -m, atol=1e-6)


def test_beta_to_m_values_missing_and_clipping() -> None:
    eps = normalize.BETA_EPSILON
    frame = pl.DataFrame(
        {
            "feature": ["cg1", "cg2", "cg3", "cg4", "cg5"],
            "a": [0.5, 0.0, 1.0, None, 0.8],
            "b": [0.2, float("nan"), 0.99, 0.5, 1e-9],
        }
    )
    out = normalize.apply(frame, transform="beta_to_m", path="m.tsv")
    limit = np.log2((1 - eps) / eps)
    assert out["a"][0] == 0.0
    assert out["a"].to_list()[1:3] == pytest.approx([-limit, limit], abs=1e-9)
    assert out["a"][3] is None
    assert out["b"][1] is None  # NaN stays missing
    assert out["a"][4] == pytest.approx(np.log2(0.8 / 0.2))
    assert out["b"][4] == pytest.approx(-limit, abs=1e-9)
    assert abs(limit - 19.93) < 0.01


def test_beta_outside_0_1_is_an_input_error() -> None:
    frame = pl.DataFrame({"feature": ["cg1", "cg2"], "a": [0.5, 0.1], "b": [0.3, 1.7]})
    with pytest.raises(InputError, match=r"column 'b': value 1\.7 of feature 'cg2' is not a beta"):
        normalize.apply(frame, transform="beta_to_m", path="m.tsv")


def test_unknown_transform_is_refused() -> None:
    frame = pl.DataFrame({"feature": ["g"], "a": [1.0]})
    with pytest.raises(ValueError, match="unknown transform"):
        normalize.apply(frame, transform="tmm", path="x.tsv")
