"""Load and validate ``config/config.yaml`` and the cohort sheet before the DAG is built.

Validation happens in two layers:

1. JSON schemas (``workflow/schemas/config.schema.yaml`` and ``sheet.schema.yaml``, both
   with ``additionalProperties: false``) check types, enums, id patterns and the keys each
   kind of row needs; defaults declared in the schema are filled in.
2. Code checks what a schema cannot say: unique (cohort, modality) pairs, exactly one
   clinical file and at least one omics file per cohort, files that exist, endpoint names
   that exist, and a Kaplan-Meier grouping column present in every clinical table.

Every problem becomes one line naming the file, the line and the key, and what to do;
all problems are reported together.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import gzip
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from survomics import formats
from survomics.errors import ConfigError, InputError, SurvomicsError
from survomics.specs import DEFAULT_NA_VALUES, EndpointSpec, FileSpec

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "workflow" / "schemas"
"""Where the JSON schemas live in a source checkout."""

SEPARATORS: dict[str, str] = {"tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
"""Sheet ``sep`` names and the characters they stand for."""

CLINICAL = "clinical"

DUPLICATE_RULES = ("error", "sum", "mean", "max", "first")
"""Values of the ``duplicates`` sheet option (see ``survomics.ingest``)."""
ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class ConfigValidationError(SurvomicsError):
    """One or more configuration problems, each a :class:`ConfigError`."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"invalid survomics configuration ({len(errors)} problem(s)):\n{lines}")


@dataclass(frozen=True, slots=True)
class Settings:
    """The validated configuration.

    Attributes
    ----------
    config
        The configuration with schema defaults filled in.
    files
        One :class:`FileSpec` per sheet row, in sheet order.
    endpoints
        Endpoint definitions by name.
    """

    config: dict[str, Any]
    files: tuple[FileSpec, ...]
    endpoints: dict[str, EndpointSpec]

    @property
    def cohorts(self) -> list[str]:
        """Cohort ids in sheet order."""
        return list(dict.fromkeys(f.cohort for f in self.files))

    def clinical(self, cohort: str) -> FileSpec:
        """The clinical file of ``cohort``."""
        return next(f for f in self.files if f.cohort == cohort and f.modality == CLINICAL)

    def modalities(self, cohort: str) -> list[str]:
        """Omics modalities of ``cohort`` in sheet order."""
        return [f.modality for f in self.files if f.cohort == cohort and f.modality != CLINICAL]

    def omics(self, cohort: str, modality: str) -> FileSpec:
        """The file of one modality of one cohort."""
        return next(f for f in self.files if f.cohort == cohort and f.modality == modality)

    def endpoint(self, cohort: str) -> EndpointSpec:
        """The endpoint definition used by ``cohort``."""
        name = self.clinical(cohort).endpoint
        assert name is not None  # guaranteed by the sheet schema
        return self.endpoints[name]


def load_schema(name: str) -> dict[str, Any]:
    """Load one of the JSON schemas shipped under ``workflow/schemas``."""
    with (SCHEMA_DIR / name).open(encoding="utf-8") as fh:
        schema: dict[str, Any] = yaml.safe_load(fh)
    return schema


def _fill_defaults(
    instance: Any, schema: Mapping[str, Any], root: Mapping[str, Any] | None = None
) -> None:
    """Fill ``default`` values into ``instance``, recursively.

    Follows local ``$ref`` (``#/$defs/...``) and applies a mapping's
    ``additionalProperties`` schema to each of its free-named values.
    """
    root = schema if root is None else root
    if "$ref" in schema:
        schema = {**_resolve(root, schema["$ref"]), **schema}
    if not isinstance(instance, dict):
        return
    props = schema.get("properties", {})
    for key, declared in props.items():
        sub = {**_resolve(root, declared["$ref"]), **declared} if "$ref" in declared else declared
        if key not in instance and "default" in sub:
            instance[key] = copy.deepcopy(sub["default"])
        if key in instance:
            _fill_defaults(instance[key], sub, root)
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping):
        for key, value in instance.items():
            if key not in props:
                _fill_defaults(value, extra, root)


def _resolve(root: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    """The sub-schema a local ``$ref`` points to."""
    node: Any = root
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _fix_for(error: jsonschema.ValidationError) -> str:
    """Say what to do about a schema violation."""
    validator = error.validator
    if validator == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        return f"use one of {allowed}"
    if validator == "pattern":
        return (
            f"use an id matching {error.validator_value} "
            "(letters, digits, '_', '.', '-'; starting with a letter or digit)"
        )
    if validator == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        return f"remove or rename it; allowed keys: {allowed}"
    if validator == "required":
        return "add it (see config/README.md)"
    if validator in {"not", "if", "then", "else", "allOf", "anyOf"}:
        return "see config/README.md for which keys go together"
    return "see config/README.md for the expected value"


def _error_key(error: jsonschema.ValidationError) -> str | None:
    """The key a schema error is about, as a dotted path."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        path.append(",".join(extra))
    elif error.validator == "required":
        missing = [r for r in error.validator_value if r not in error.instance]
        path.append(",".join(missing))
    return ".".join(path) if path else None


def _forbidden_present(error: jsonschema.ValidationError) -> list[str]:
    """Keys present in the instance that a ``not: {anyOf: [{required: ...}]}`` forbids."""
    forbidden = [
        key
        for branch in error.validator_value.get("anyOf", [error.validator_value])
        for key in branch.get("required", [])
    ]
    return [k for k in forbidden if isinstance(error.instance, dict) and k in error.instance]


def _schema_errors(
    instance: Mapping[str, Any], schema: Mapping[str, Any], *, path: str, line: int | None
) -> list[ConfigError]:
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path)))
    out: list[ConfigError] = []
    for err in errors:
        # Report the most specific cause of a combinator failure.
        leaf = err
        while leaf.context:
            leaf = min(leaf.context, key=lambda e: len(list(e.schema_path)))
        message = leaf.message
        key = _error_key(leaf)
        if leaf.validator == "not":
            clash = _forbidden_present(leaf)
            message = f"{', '.join(clash)} cannot be set together with the keys given here"
            key = ".".join([*map(str, leaf.absolute_path), clash[0]]) if clash else key
        out.append(
            ConfigError(
                path,
                message,
                fix=_fix_for(leaf),
                line=line,
                column=key,
                column_label="column" if line is not None else "key",
            )
        )
    return out


def read_sheet(path: str | Path) -> list[tuple[int, dict[str, str]]]:
    """Read the cohort sheet: ``(line, row)`` pairs with empty cells left out.

    Lines starting with ``#`` and blank lines are skipped; cells are whitespace-stripped.

    Raises
    ------
    ConfigError
        If the sheet is missing, empty, has duplicate column names or a ragged row.
    """
    sheet = Path(path)
    if not sheet.is_file():
        raise ConfigError(sheet, "cohort sheet not found", fix="create it or set `sheet:`")
    text = sheet.read_text(encoding="utf-8-sig")
    rows: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    for lineno, fields in _tsv_lines(text):
        if header is None:
            header = fields
            dupes = sorted({h for h in header if header.count(h) > 1})
            if dupes:
                raise ConfigError(
                    sheet,
                    f"duplicate column name(s) {dupes}",
                    fix="give every column a unique name",
                    line=lineno,
                )
            continue
        if len(fields) != len(header):
            raise ConfigError(
                sheet,
                f"row has {len(fields)} fields but the header has {len(header)}",
                fix="separate cells with exactly one tab each; leave unused cells empty",
                line=lineno,
            )
        rows.append((lineno, {k: v for k, v in zip(header, fields, strict=True) if v != ""}))
    if header is None:
        raise ConfigError(sheet, "cohort sheet is empty", fix="add a header and one row per file")
    return rows


def _tsv_lines(text: str) -> Iterator[tuple[int, list[str]]]:
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        yield lineno, [cell.strip() for cell in raw.split("\t")]


def _read_header(path: Path, sep: str) -> list[str]:
    """First line of a delimited text file (gzip recognised by suffix), BOM stripped."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as fh:
        first = fh.readline()
    return next(csv.reader(io.StringIO(first), delimiter=sep), [])


def _file_header(spec: FileSpec, base: Path) -> list[str] | None:
    """Column names of a clinical file, or ``None`` when it is absent or unreadable.

    The missing-file check or the ingest rule reports those, naming the line.
    """
    path = base / spec.path
    if not path.exists():
        return None
    if spec.format not in formats.BUILTIN:
        try:
            table = formats.read_clinical(dataclasses.replace(spec, path=str(path)))
        except InputError:
            return None
        return [c for c in table.frame.columns if c != "_line"]
    if not path.is_file():
        return None
    if spec.format == "parquet":
        import pyarrow.parquet as pq  # noqa: PLC0415 - only needed for Parquet inputs

        return list(pq.read_schema(path).names)
    sep = spec.sep or ("," if spec.format == "csv" else "\t")
    return [h.strip() for h in _read_header(path, sep)]


def _file_spec(row: Mapping[str, str], *, line: int) -> FileSpec:
    extra = tuple(t for t in row.get("na_values", "").split("|") if t != "")
    clinical = row["modality"] == CLINICAL
    return FileSpec(
        cohort=row["cohort"],
        modality=row["modality"],
        path=row["path"],
        format=row["format"],  # type: ignore[arg-type]
        orientation=None if clinical else row.get("orientation"),  # type: ignore[arg-type]
        id_column=row.get("id_column"),
        sep=SEPARATORS[row["sep"]] if "sep" in row else None,
        transform=row.get("transform", "none"),  # type: ignore[arg-type]
        na_values=tuple(dict.fromkeys(DEFAULT_NA_VALUES + extra)),
        id_type=row.get("id_type", "tcga_barcode"),  # type: ignore[arg-type]
        endpoint=row.get("endpoint"),
        options=_options(row.get("options", "")),
        sheet_line=line,
    )


def _options(cell: str) -> tuple[tuple[str, str], ...]:
    """``key=value;key=value`` (pattern checked by the sheet schema) as pairs."""
    pairs = (item.split("=", 1) for item in cell.split(";") if item.strip())
    return tuple((key.strip(), value.strip()) for key, value in pairs)


def _option_errors(spec: FileSpec, *, sheet: Path) -> list[ConfigError]:
    allowed = formats.allowed_options(spec.format, clinical=spec.modality == CLINICAL)
    keys = [key for key, _ in spec.options]
    errors = [
        ConfigError(
            sheet,
            f"unknown option '{key}' for format '{spec.format}'",
            fix=f"use one of {sorted(allowed)} (docs/formats.md)"
            if allowed
            else f"format '{spec.format}' takes no options: empty the cell",
            line=spec.sheet_line,
            column="options",
        )
        for key in keys
        if key not in allowed
    ]
    errors += [
        ConfigError(
            sheet,
            f"option duplicates={value!r} is not a rule",
            fix=f"use one of {list(DUPLICATE_RULES)}",
            line=spec.sheet_line,
            column="options",
        )
        for key, value in spec.options
        if key == "duplicates" and value not in DUPLICATE_RULES
    ]
    errors += [
        ConfigError(
            sheet,
            f"option '{key}' is given twice",
            fix="give each option once",
            line=spec.sheet_line,
            column="options",
        )
        for key in sorted({k for k in keys if keys.count(k) > 1})
    ]
    return errors


def _expand(spec: FileSpec, *, base: Path) -> list[FileSpec]:
    """A whole-folder row (a cBioPortal study) as one row per file it holds."""
    if spec.format == "cbioportal" and spec.modality == CLINICAL and (base / spec.path).is_dir():
        from survomics.formats.cbioportal import expand_study  # noqa: PLC0415 - on demand

        return [spec, *expand_study(spec, base=base)]
    return [spec]


def load_settings(
    config: Mapping[str, Any],
    *,
    config_path: str | Path = "config/config.yaml",
    base: str | Path = ".",
) -> Settings:
    """Validate the configuration and its cohort sheet; return typed settings.

    Parameters
    ----------
    config
        The parsed ``config.yaml`` (e.g. Snakemake's ``config``); not modified.
    config_path
        Where it came from, for messages.
    base
        Directory that relative paths (sheet, input files) are resolved against.

    Returns
    -------
    Settings
        The validated configuration.

    Raises
    ------
    ConfigValidationError
        Listing every problem found, each naming file, line and key, with a fix.
    """
    base = Path(base)
    cfg = copy.deepcopy(dict(config))
    errors = _schema_errors(
        cfg, load_schema("config.schema.yaml"), path=str(config_path), line=None
    )
    if errors:
        raise ConfigValidationError(errors)
    _fill_defaults(cfg, load_schema("config.schema.yaml"))
    endpoints = {name: EndpointSpec(name=name, **spec) for name, spec in cfg["endpoints"].items()}

    sheet_path = Path(cfg["sheet"])
    rows = read_sheet(base / sheet_path)
    sheet_schema = load_schema("sheet.schema.yaml")
    files: list[FileSpec] = []
    invalid_cohorts: set[str] = set()
    for line, row in rows:
        row_errors = _schema_errors(row, sheet_schema, path=str(sheet_path), line=line)
        if row_errors:
            errors.extend(row_errors)
            invalid_cohorts.add(row.get("cohort", ""))
            continue
        spec = _file_spec(row, line=line)
        option_errors = _option_errors(spec, sheet=sheet_path)
        if option_errors:
            errors.extend(option_errors)
            invalid_cohorts.add(spec.cohort)
            continue
        try:
            files.extend(_expand(spec, base=base))
        except InputError as exc:
            errors.append(
                ConfigError(
                    sheet_path,
                    str(exc),
                    fix="point the row at a cBioPortal study folder",
                    line=line,
                    column="path",
                )
            )
            invalid_cohorts.add(spec.cohort)
    if not rows:
        errors.append(
            ConfigError(sheet_path, "the sheet has no rows", fix="add one row per input file")
        )
    # Cohorts with an invalid row are not checked across rows: the row's own error says it.
    valid = [f for f in files if f.cohort not in invalid_cohorts]
    errors.extend(_cross_row_errors(valid, cfg, endpoints, sheet=sheet_path, base=base))
    errors.extend(
        _modelling_errors(
            valid,
            cfg,
            config_path=Path(config_path),
            base=base,
            sheet_complete=not invalid_cohorts,
        )
    )
    if errors:
        raise ConfigValidationError(errors)
    return Settings(config=cfg, files=tuple(files), endpoints=endpoints)


def _cross_row_errors(
    files: list[FileSpec],
    cfg: Mapping[str, Any],
    endpoints: Mapping[str, EndpointSpec],
    *,
    sheet: Path,
    base: Path,
) -> list[ConfigError]:
    errors: list[ConfigError] = []
    seen: dict[tuple[str, str], FileSpec] = {}
    for spec in files:
        key = (spec.cohort, spec.modality)
        if key in seen:
            errors.append(
                ConfigError(
                    sheet,
                    f"cohort '{spec.cohort}' has modality '{spec.modality}' twice "
                    f"(also on line {seen[key].sheet_line})",
                    fix="keep one row per cohort and modality, or rename the second modality",
                    line=spec.sheet_line,
                    column="modality",
                )
            )
            continue
        seen[key] = spec
        found = base / spec.path
        folder_ok = spec.format == "cbioportal" and found.is_dir()
        if not (found.is_file() or folder_ok):
            errors.append(
                ConfigError(
                    sheet,
                    f"file '{spec.path}' not found (resolved against '{base.resolve()}')",
                    fix="correct the path; relative paths start at the directory you run in",
                    line=spec.sheet_line,
                    column="path",
                )
            )
        if spec.endpoint is not None and spec.endpoint not in endpoints:
            errors.append(
                ConfigError(
                    sheet,
                    f"endpoint '{spec.endpoint}' is not defined in the config",
                    fix=f"use one of {sorted(endpoints)} or add it under `endpoints:`",
                    line=spec.sheet_line,
                    column="endpoint",
                )
            )
    group = cfg["kaplan_meier"]["group"]
    for cohort in dict.fromkeys(f.cohort for f in files):
        rows = [f for f in files if f.cohort == cohort]
        clinical = [f for f in rows if f.modality == CLINICAL]
        first_line = rows[0].sheet_line
        if len(clinical) != 1:
            errors.append(
                ConfigError(
                    sheet,
                    f"cohort '{cohort}' has {len(clinical)} clinical files",
                    fix="give every cohort exactly one row with modality 'clinical'",
                    line=first_line,
                    column="modality",
                )
            )
        if len(rows) == len(clinical):
            errors.append(
                ConfigError(
                    sheet,
                    f"cohort '{cohort}' has no omics file",
                    fix="add at least one row with an omics modality for it",
                    line=first_line,
                    column="modality",
                )
            )
        header = _file_header(clinical[0], base) if len(clinical) == 1 else None
        if header is not None and group not in header:
            errors.append(
                ConfigError(
                    clinical[0].path,
                    f"the Kaplan-Meier grouping column '{group}' (config key "
                    "kaplan_meier.group) is not in this clinical table",
                    fix=f"set kaplan_meier.group to one of its columns: {header[:20]}",
                    line=1,
                    column=group,
                )
            )
    return errors


def _modelling_errors(
    files: list[FileSpec],
    cfg: Mapping[str, Any],
    *,
    config_path: Path,
    base: Path,
    sheet_complete: bool,
) -> list[ConfigError]:
    """Checks of ``modelling:`` and ``validate:`` against the sheet and the clinical tables.

    Checks that need every cohort (settings of a modality no cohort has, unknown
    validation cohorts) are skipped while sheet rows are invalid: those rows' own errors
    come first.
    """
    errors: list[ConfigError] = []
    modelling = cfg["modelling"]
    cohorts = list(dict.fromkeys(f.cohort for f in files))
    modalities = {
        c: [f.modality for f in files if f.cohort == c and f.modality != CLINICAL] for c in cohorts
    }

    def problem(key: str, message: str, fix: str) -> None:
        errors.append(ConfigError(config_path, message, fix=fix, column=key, column_label="key"))

    covariates = list(modelling["covariates"])
    for name, model in modelling["models"].items():
        needs_covariates = model["kind"] == "clinical" or model.get("clinical", False)
        if needs_covariates and not covariates:
            problem(
                f"modelling.models.{name}",
                f"model '{name}' uses clinical covariates but modelling.covariates is empty",
                "list the clinical columns under modelling.covariates",
            )
        if model.get("clinical") and model["kind"] not in ("early_fusion", "late_fusion"):
            problem(
                f"modelling.models.{name}.clinical",
                "`clinical: true` applies to early_fusion and late_fusion models only",
                "remove it (the `clinical` kind is the covariates-only model)",
            )
        if not modelling["enabled"] or not sheet_complete:
            continue
        for cohort in cohorts:
            absent = [m for m in model.get("modalities", []) if m not in modalities[cohort]]
            if absent:
                problem(
                    f"modelling.models.{name}.modalities",
                    f"model '{name}' uses modality {absent} which cohort '{cohort}' does not "
                    f"have (it has {modalities[cohort]})",
                    "add the modality to the cohort sheet or remove it from the model",
                )
    known = {m for ms in modalities.values() for m in ms}
    for modality in modelling["modalities"] if sheet_complete else ():
        if modality not in known:
            problem(
                f"modelling.modalities.{modality}",
                f"settings for modality '{modality}', which no cohort of the sheet has",
                f"use one of {sorted(known)}",
            )
    columns = [*covariates, *([modelling["treatment"]] if modelling["treatment"] else [])]
    for cohort in cohorts:
        clinical = [f for f in files if f.cohort == cohort and f.modality == CLINICAL]
        header = _file_header(clinical[0], base) if len(clinical) == 1 else None
        if header is None or not columns:
            continue
        for column in columns:
            if column not in header:
                key = "treatment" if column == modelling["treatment"] else "covariates"
                problem(
                    f"modelling.{key}",
                    f"column '{column}' is not in the clinical table of cohort '{cohort}' "
                    f"({clinical[0].path})",
                    f"use one of its columns: {header[:20]}",
                )
    for index, pair in enumerate(cfg["validate"]):
        for role in ("train", "test"):
            if sheet_complete and pair[role] not in cohorts:
                problem(
                    f"validate.{index}.{role}",
                    f"cohort '{pair[role]}' is not in the sheet",
                    f"use one of {cohorts}",
                )
        if pair["train"] == pair["test"]:
            problem(
                f"validate.{index}",
                f"cohort '{pair['train']}' is validated on itself",
                "name a different cohort as `test` (cross-validation already covers the "
                "training cohort)",
            )
    return errors
