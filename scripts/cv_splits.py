"""Rule ``cv_splits``: outer fold assignment and the survival-curve time grid."""

from survomics import workflow as wf
from survomics.model import steps

if "snakemake" in globals():
    sm = snakemake  # injected by Snakemake
    mod = sm.params.modelling
    ev = mod["evaluation"]
    wf.run_rule(
        sm.log[0],
        steps.cv_splits,
        clinical=sm.input.clinical,
        endpoint=sm.params.endpoint,
        folds=mod["outer_folds"],
        repeats=mod["outer_repeats"],
        seed=mod["seed"],
        horizons=ev["horizons"],
        time_unit=ev["time_unit"],
        grid_points=ev["grid_points"],
        out_splits=sm.output.splits,
        out_grid=sm.output.grid,
    )
