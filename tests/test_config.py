"""Configuration and cohort-sheet validation: schema layer and cross-row checks."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from survomics.config import ConfigValidationError, load_settings, read_sheet
from survomics.errors import ConfigError
from survomics.specs import DEFAULT_NA_VALUES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the default config, sheet and bundled data in a fresh directory."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path


def base_config() -> dict[str, Any]:
    with (ROOT / "config" / "config.yaml").open() as fh:
        return yaml.safe_load(fh)


def sheet_rows(project: Path) -> list[list[str]]:
    return [
        line.split("\t") for line in (project / "config" / "cohorts.tsv").read_text().splitlines()
    ]


def write_sheet(project: Path, rows: list[list[str]]) -> None:
    text = "\n".join("\t".join(r) for r in rows) + "\n"
    (project / "config" / "cohorts.tsv").write_text(text)


def problems(project: Path, config: dict[str, Any] | None = None) -> list[ConfigError]:
    with pytest.raises(ConfigValidationError) as info:
        load_settings(config or base_config(), base=project)
    return info.value.errors


def set_cell(project: Path, line: int, column: str, value: str) -> None:
    rows = sheet_rows(project)
    rows[line - 1][rows[0].index(column)] = value
    write_sheet(project, rows)


def test_default_config_is_valid_and_complete(project: Path) -> None:
    settings = load_settings(base_config(), base=project)
    assert settings.cohorts == ["tcga_acc"]
    assert settings.modalities("tcga_acc") == [
        "expression",
        "copy_number",
        "protein",
        "mutation",
        "mirna",
    ]
    clinical = settings.clinical("tcga_acc")
    assert clinical.id_column == "patientID"
    assert clinical.sheet_line == 2
    assert settings.endpoint("tcga_acc").name == "os"
    assert settings.omics("tcga_acc", "expression").transform == "log2p1"
    # Schema defaults are filled in.
    assert settings.config["screening"]["ties"] == "efron"
    assert settings.config["samples"]["tumour_types"][0] == 1


def test_defaults_fill_missing_sections(project: Path) -> None:
    config = base_config()
    for key in ("samples", "screening", "report"):
        del config[key]
    settings = load_settings(config, base=project)
    assert settings.config["screening"] == {"ties": "efron", "fdr": 0.05}
    assert settings.config["report"]["top_features"] == 10
    assert settings.config["samples"]["tumour_types"] == list(range(1, 10))


def test_input_config_is_not_modified(project: Path) -> None:
    config = base_config()
    snapshot = copy.deepcopy(config)
    load_settings(config, base=project)
    assert config == snapshot


@pytest.mark.parametrize(
    ("mutate", "key", "fix"),
    [
        (lambda c: c.update(unknown=1), "unknown", "remove or rename it"),
        (lambda c: c["screening"].update(ties="exact"), "screening.ties", "'efron', 'breslow'"),
        (lambda c: c["screening"].update(fdr=0), "screening.fdr", "config/README.md"),
        (lambda c: c["report"].update(top_features=0), "report.top_features", "README"),
        (lambda c: c["samples"].update(tumour_types=[1, 1]), "samples.tumour_types", "README"),
        (lambda c: c["endpoints"]["os"].update(derive="survey"), "endpoints.os.derive", "'tcga'"),
        (
            lambda c: c["endpoints"]["os"].update(time_column="OS_MONTHS"),
            "endpoints.os.time_column",
            "keys go together",
        ),
        (
            lambda c: c["endpoints"]["os"].pop("status_column"),
            "endpoints.os.status_column",
            "add it",
        ),
        (lambda c: c["endpoints"].update({"OS bad": {"derive": "tcga"}}), "endpoints", "README"),
        (lambda c: c.pop("sheet"), "sheet", "add it"),
    ],
)
def test_config_schema_errors_name_the_key_and_the_fix(
    project: Path, mutate: Any, key: str, fix: str
) -> None:
    config = base_config()
    mutate(config)
    errors = problems(project, config)
    messages = [str(e) for e in errors]
    assert any(f"key '{key}'" in m for m in messages), messages
    assert all(m.startswith("config/config.yaml") for m in messages)
    assert any(fix in m for m in messages), messages
    assert all("Fix: " in m for m in messages)


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("cohort", "bad id", "^[A-Za-z0-9][A-Za-z0-9_.-]*$"),
        ("cohort", "_hidden", "^[A-Za-z0-9][A-Za-z0-9_.-]*$"),
        ("modality", "ex pression", "does not match"),
        ("format", "xlsx", "'tsv', 'csv', 'parquet'"),
        ("orientation", "sideways", "'features_x_samples', 'samples_x_features'"),
        ("transform", "sqrt", "'log2p1'"),
        ("id_type", "uuid", "'tcga_barcode', 'patient'"),
    ],
)
def test_sheet_schema_errors_name_file_line_and_column(
    project: Path, column: str, value: str, expected: str
) -> None:
    set_cell(project, 3, column, value)
    errors = problems(project)
    assert len(errors) == 1
    message = str(errors[0])
    assert message.startswith(f"config/cohorts.tsv:3, column '{column}'")
    assert expected in message
    assert "Fix: " in message


def test_sheet_unknown_column_is_rejected(project: Path) -> None:
    rows = sheet_rows(project)
    rows[0].append("colour")
    for row in rows[1:]:
        row.append("blue")
    write_sheet(project, rows)
    errors = problems(project)
    assert {e.line for e in errors} == set(range(2, 8))
    assert all(e.column == "colour" for e in errors)
    assert "allowed keys" in str(errors[0])


def test_clinical_row_needs_endpoint_and_omics_rows_need_orientation(project: Path) -> None:
    set_cell(project, 2, "endpoint", "")
    set_cell(project, 4, "orientation", "")
    errors = problems(project)
    by_line = {e.line: e for e in errors}
    assert by_line[2].column == "endpoint"
    assert by_line[4].column == "orientation"


def test_clinical_row_rejects_omics_options(project: Path) -> None:
    set_cell(project, 2, "transform", "log2p1")
    (error,) = problems(project)
    assert error.line == 2
    assert error.column == "transform"
    assert "cannot be set together" in str(error)


def test_duplicate_modality_names_both_lines(project: Path) -> None:
    rows = sheet_rows(project)
    rows.append(rows[3])
    write_sheet(project, rows)
    (error,) = problems(project)
    assert error.line == 8
    assert "also on line 4" in str(error)


def test_missing_file_is_reported_with_its_row(project: Path) -> None:
    (project / "data" / "tcga_acc" / "protein_rppa.tsv").unlink()
    (error,) = problems(project)
    assert error.line == 5
    assert error.column == "path"
    assert "protein_rppa.tsv' not found" in str(error)


def test_unknown_endpoint(project: Path) -> None:
    set_cell(project, 2, "endpoint", "pfs")
    (error,) = problems(project)
    assert "endpoint 'pfs' is not defined" in str(error)
    assert "['os']" in str(error)


def test_cohort_without_clinical_or_omics(project: Path) -> None:
    rows = sheet_rows(project)
    clinical_only = [*rows[1]]
    clinical_only[0] = "second"
    omics_only = [*rows[2]]
    omics_only[0] = "third"
    rows += [clinical_only, omics_only]
    write_sheet(project, rows)
    messages = [str(e) for e in problems(project)]
    assert any("cohort 'second' has no omics file" in m for m in messages)
    assert any("cohort 'third' has 0 clinical files" in m for m in messages)


def test_km_group_must_exist_in_clinical_table(project: Path) -> None:
    config = base_config()
    config["kaplan_meier"]["group"] = "tumour_grade"
    (error,) = problems(project, config)
    assert error.path == "data/tcga_acc/clinical_patient.tsv"
    assert error.column == "tumour_grade"
    assert "pathologic_stage" in str(error)


def test_all_problems_are_reported_together(project: Path) -> None:
    set_cell(project, 3, "format", "xlsx")
    set_cell(project, 5, "transform", "sqrt")
    errors = problems(project)
    assert [e.line for e in errors] == [3, 5]


def test_sheet_comments_blank_lines_and_extra_na_tokens(project: Path) -> None:
    rows = sheet_rows(project)
    rows[2][rows[0].index("na_values")] = "-|n/a"
    text = "# a comment\n\n" + "\n".join("\t".join(r) for r in rows) + "\n"
    (project / "config" / "cohorts.tsv").write_text(text)
    settings = load_settings(base_config(), base=project)
    spec = settings.omics("tcga_acc", "expression")
    assert spec.sheet_line == 5
    assert spec.na_values[: len(DEFAULT_NA_VALUES)] == DEFAULT_NA_VALUES
    assert spec.na_values[-2:] == ("-", "n/a")


def test_ragged_and_empty_sheets(project: Path) -> None:
    sheet = project / "config" / "cohorts.tsv"
    sheet.write_text("cohort\tmodality\na\tb\tc\n")
    with pytest.raises(ConfigError, match=r"cohorts.tsv:2: row has 3 fields but the header has 2"):
        read_sheet(sheet)
    sheet.write_text("")
    with pytest.raises(ConfigError, match="cohort sheet is empty"):
        read_sheet(sheet)
    sheet.write_text("cohort\tcohort\n")
    with pytest.raises(ConfigError, match="duplicate column name"):
        read_sheet(sheet)


# --- modelling and validation settings ----------------------------------------------


def _modelling(**changes: Any) -> dict[str, Any]:
    config = base_config()
    config["modelling"].update(copy.deepcopy(changes))
    return config


def test_modelling_defaults_are_filled_into_nested_settings(project: Path) -> None:
    config = _modelling(
        models={"expression_rsf": {"kind": "rsf", "modalities": ["expression"]}},
        modalities={"expression": {"top_k": 100}},
    )
    settings = load_settings(config, base=project)
    modelling = settings.config["modelling"]
    assert modelling["models"]["expression_rsf"]["clinical"] is False
    assert modelling["preprocessing"]["selection"] == "univariate"
    assert modelling["modalities"]["expression"] == {"top_k": 100}  # overrides stay sparse
    assert modelling["evaluation"]["horizons"] == [1, 3, 5]
    assert settings.config["validate"] == []


@pytest.mark.parametrize(
    ("changes", "key", "message"),
    [
        (
            {"models": {"m": {"kind": "coxnet", "modalities": ["methylation"]}}},
            "modelling.models.m.modalities",
            "does not have",
        ),
        (
            {"covariates": [], "models": {"base": {"kind": "clinical"}}},
            "modelling.models.base",
            "modelling.covariates is empty",
        ),
        ({"covariates": ["no_such_column"]}, "modelling.covariates", "not in the clinical"),
        ({"treatment": "no_such_arm"}, "modelling.treatment", "not in the clinical"),
        ({"modalities": {"methylation": {"top_k": 5}}}, "modelling.modalities.methylation", ""),
        (
            {"models": {"m": {"kind": "coxnet", "modalities": ["expression"], "clinical": True}}},
            "modelling.models.m.clinical",
            "early_fusion and late_fusion",
        ),
    ],
)
def test_modelling_cross_checks(
    project: Path, changes: dict[str, Any], key: str, message: str
) -> None:
    found = problems(project, _modelling(**changes))
    assert len(found) == 1, found
    assert f"key '{key}'" in str(found[0])
    assert message in str(found[0])
    assert "Fix:" in str(found[0])


@pytest.mark.parametrize(
    ("model", "fragment"),
    [
        ({"kind": "coxnet"}, "'modalities' is a required property"),
        ({"kind": "early_fusion", "modalities": ["expression"]}, "is too short"),
        ({"kind": "clinical", "modalities": ["expression"]}, "is expected to be empty"),
        ({"kind": "lasso", "modalities": ["expression"]}, "'lasso' is not one of"),
    ],
)
def test_model_schema(project: Path, model: dict[str, Any], fragment: str) -> None:
    found = [str(e) for e in problems(project, _modelling(models={"m": model}))]
    assert len(found) == 1, found
    assert "key 'modelling.models.m." in found[0]
    assert fragment in found[0]


def test_validation_pairs_are_checked(project: Path) -> None:
    config = base_config()
    config["validate"] = [{"train": "tcga_acc", "test": "tcga_acc"}, {"train": "x", "test": "y"}]
    found = [str(e) for e in problems(project, config)]
    assert len(found) == 3, found
    assert any("validated on itself" in e for e in found)
    assert any("key 'validate.1.train'" in e and "'x' is not in the sheet" in e for e in found)


def _add_column(project: Path, name: str, values: dict[int, str]) -> None:
    rows = sheet_rows(project)
    rows[0].append(name)
    for index, row in enumerate(rows[1:], start=2):
        row.append(values.get(index, ""))
    write_sheet(project, rows)


def test_sheet_options_are_parsed_and_checked_per_format(project: Path) -> None:
    _add_column(project, "options", {3: "duplicates=mean"})
    settings = load_settings(base_config(), base=project)
    expression = settings.omics("tcga_acc", "expression")
    assert expression.options == (("duplicates", "mean"),)
    assert expression.option("duplicates") == "mean"
    assert settings.omics("tcga_acc", "protein").option("duplicates", "error") == "error"

    set_cell(project, 3, "options", "duplicates=mean;min_cells=5")
    [error] = problems(project)
    assert str(error).startswith("config/cohorts.tsv:3, column 'options': unknown option")
    assert "'min_cells' for format 'tsv'" in str(error)
    assert "duplicates" in error.fix

    set_cell(project, 3, "options", "duplicates=mean;duplicates=sum")
    [error] = problems(project)
    assert "option 'duplicates' is given twice" in str(error)

    set_cell(project, 3, "options", "duplicates=median")
    [error] = problems(project)
    assert "option duplicates='median' is not a rule" in str(error)

    set_cell(project, 3, "options", "duplicates")  # not key=value
    [error] = problems(project)
    assert str(error).startswith("config/cohorts.tsv:3, column 'options'")

    set_cell(project, 3, "options", "")
    set_cell(project, 2, "options", "duplicates=sum")  # clinical rows take no matrix option
    [error] = problems(project)
    assert "takes no options" in error.fix


def test_orientation_is_only_required_for_plain_tables(project: Path) -> None:
    set_cell(project, 3, "orientation", "")
    [error] = problems(project)
    assert "orientation" in str(error)
    set_cell(project, 3, "orientation", "features_x_samples")
    set_cell(project, 3, "format", "maf")  # the path does not matter to the schema check
    settings = load_settings(base_config(), base=project)
    assert settings.omics("tcga_acc", "expression").format == "maf"


def test_every_format_and_option_is_documented() -> None:
    from survomics import formats

    sheet_schema = yaml.safe_load((ROOT / "workflow/schemas/sheet.schema.yaml").read_text())
    names = sheet_schema["properties"]["format"]["enum"]
    assert set(names) == set(formats.OPTIONS)
    assert set(formats.MATRIX_READERS) | set(formats.CLINICAL_READERS) | formats.BUILTIN == set(
        names
    )
    docs = (ROOT / "docs" / "formats.md").read_text()
    readme = (ROOT / "config" / "README.md").read_text()
    for name in names:
        assert f"`{name}`" in docs, name
        assert f"`{name}`" in readme, name
    for name, options in {**formats.OPTIONS, "tsv": formats.COMMON_MATRIX_OPTIONS}.items():
        for key in options:
            assert f"`{key}`" in docs or f"{key}=" in docs, (name, key)
