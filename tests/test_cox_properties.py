"""Property tests of survomics.cox.cox_screen against statsmodels ``PHReg``.

Random cohorts with heavy ties (few distinct times), missing feature values, 0-2
covariates and optional strata. Every feature that cox_screen fits (status ``ok``) is
refitted by statsmodels on its complete cases; the likelihood-ratio and score tests are
rebuilt from statsmodels' log-likelihood, score and Hessian.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg

from survomics.cox import benjamini_hochberg, cox_screen

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@st.composite
def cohorts(draw: st.DrawFn) -> dict:
    n = draw(st.integers(min_value=20, max_value=70))
    rng = np.random.default_rng(draw(st.integers(min_value=0, max_value=2**32 - 1)))
    n_times = draw(st.integers(min_value=2, max_value=12))  # few distinct times: heavy ties
    time = rng.integers(0, n_times, n).astype(np.float64)
    event = (rng.random(n) < draw(st.floats(0.3, 0.9))).astype(np.float64)
    x = rng.normal(size=(n, 3)) + 0.5 * (time / n_times)[:, None] * rng.normal(size=3)
    x[rng.random(x.shape) < draw(st.sampled_from([0.0, 0.1, 0.25]))] = np.nan
    k = draw(st.integers(min_value=0, max_value=2))
    covariates = None
    if k:
        covariates = rng.normal(size=(n, k))
        covariates[:, 0] += 0.5 * np.nan_to_num(x[:, 0])  # confounded with the first feature
    strata = rng.integers(0, draw(st.integers(2, 3)), n) if draw(st.booleans()) else None
    return {
        "x": x,
        "time": time,
        "event": event,
        "covariates": covariates,
        "strata": strata,
        "ties": draw(st.sampled_from(["efron", "breslow"])),
    }


def statsmodels_reference(data: dict, j: int) -> dict[str, float] | None:
    """Fit feature j (+ covariates) and the covariates-only model on j's complete cases."""
    keep = ~np.isnan(data["x"][:, j])
    cov = data["covariates"]
    feature = data["x"][keep, j : j + 1]
    design = feature if cov is None else np.column_stack([feature, cov[keep]])
    strata = None if data["strata"] is None else data["strata"][keep]
    kw = {"status": data["event"][keep], "ties": data["ties"], "strata": strata}
    model = PHReg(data["time"][keep], design, **kw)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            full = model.fit(tol=1e-14, maxiter=200)
            if cov is None:
                restricted = np.zeros(1)
                loglik0 = float(model.loglike(restricted))
            else:
                null = PHReg(data["time"][keep], cov[keep], **kw).fit(tol=1e-14, maxiter=200)
                restricted = np.concatenate([[0.0], null.params])
                loglik0 = float(null.llf)
            score = model.score(restricted)
            info = -model.hessian(restricted)
    except Exception:  # statsmodels cannot fit this feature: nothing to compare
        return None
    if not (np.all(np.isfinite(full.params)) and np.all(np.isfinite(full.bse))):
        return None
    efficient = info[0, 0]
    if cov is not None:
        efficient -= info[0, 1:] @ np.linalg.solve(info[1:, 1:], info[1:, 0])
    return {
        "coef": float(full.params[0]),
        "se": float(full.bse[0]),
        "p_lrt": float(stats.chi2.sf(max(2.0 * (full.llf - loglik0), 0.0), 1)),
        "p_score": float(stats.chi2.sf(score[0] ** 2 / efficient, 1)),
        "n": int(keep.sum()),
        "events": int(data["event"][keep].sum()),
    }


@SETTINGS
@given(data=cohorts())
def test_agrees_with_statsmodels(data: dict) -> None:
    ours = cox_screen(
        data["x"],
        data["time"],
        data["event"],
        ties=data["ties"],
        covariates=data["covariates"],
        strata=data["strata"],
    )
    compared = 0
    for j in range(data["x"].shape[1]):
        row = ours.row(j, named=True)
        keep = ~np.isnan(data["x"][:, j])
        assert row["n"] == keep.sum()
        assert row["events"] == data["event"][keep].sum()
        if row["status"] != "ok":
            continue
        ref = statsmodels_reference(data, j)
        if ref is None or abs(ref["coef"]) > 20:  # diverging in statsmodels: not comparable
            continue
        assert row["coef"] == pytest.approx(ref["coef"], rel=1e-8, abs=1e-10)
        assert row["se"] == pytest.approx(ref["se"], rel=1e-8)
        assert row["z"] == pytest.approx(ref["coef"] / ref["se"], rel=1e-8, abs=1e-10)
        assert row["p_lrt"] == pytest.approx(ref["p_lrt"], rel=1e-6, abs=1e-12)
        assert row["p_score"] == pytest.approx(ref["p_score"], rel=1e-6, abs=1e-12)
        compared += 1
    assume(compared > 0)


@SETTINGS
@given(data=cohorts(), scale=st.floats(0.01, 100.0), shift=st.floats(-50.0, 50.0))
def test_affine_change_of_a_feature(data: dict, scale: float, shift: float) -> None:
    """x -> a x + b divides the coefficient by a and leaves every test unchanged."""
    kw = {
        "ties": data["ties"],
        "covariates": data["covariates"],
        "strata": data["strata"],
    }
    before = cox_screen(data["x"], data["time"], data["event"], **kw)
    after = cox_screen(scale * data["x"] + shift, data["time"], data["event"], **kw)
    ok = (before["status"] == "ok") & (after["status"] == "ok")
    assume(ok.any())
    b, a = before.filter(ok), after.filter(ok)
    np.testing.assert_allclose(a["coef"] * scale, b["coef"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(a["se"] * scale, b["se"], rtol=1e-8)
    for col in ("z", "p_wald", "p_lrt", "p_score"):
        np.testing.assert_allclose(a[col], b[col], rtol=1e-7, atol=1e-12, err_msg=col)


@SETTINGS
@given(data=cohorts(), seed=st.integers(0, 2**32 - 1))
def test_sample_order_does_not_matter(data: dict, seed: int) -> None:
    order = np.random.default_rng(seed).permutation(data["time"].size)
    kw = {"ties": data["ties"]}
    shuffled = {
        "covariates": None if data["covariates"] is None else data["covariates"][order],
        "strata": None if data["strata"] is None else data["strata"][order],
    }
    before = cox_screen(
        data["x"],
        data["time"],
        data["event"],
        covariates=data["covariates"],
        strata=data["strata"],
        **kw,
    )
    after = cox_screen(
        data["x"][order], data["time"][order], data["event"][order], **shuffled, **kw
    )
    assert after["status"].equals(before["status"])
    for col in ("coef", "se", "p_wald", "p_lrt", "p_score"):
        np.testing.assert_allclose(after[col], before[col], rtol=1e-9, atol=1e-13, err_msg=col)


@settings(max_examples=50, deadline=None)
@given(p=st.lists(st.one_of(st.floats(0.0, 1.0), st.just(float("nan"))), min_size=1, max_size=60))
def test_benjamini_hochberg_properties(p: list[float]) -> None:
    values = np.array(p)
    q = benjamini_hochberg(values)
    tested = ~np.isnan(values)
    assert np.array_equal(np.isnan(q), ~tested)
    if tested.any():
        pv, qv = values[tested], q[tested]
        assert np.all(qv >= pv - 1e-15)
        assert np.all(qv <= 1.0)
        order = np.argsort(pv, kind="stable")
        assert np.all(np.diff(qv[order]) >= -1e-15)  # monotone in p
        m = tested.sum()
        assert qv[order][-1] == pytest.approx(min(pv[order][-1], 1.0))  # largest: q = p
        assert qv.min() == pytest.approx(min(np.min(pv * m / stats.rankdata(pv, "max")), 1.0))
