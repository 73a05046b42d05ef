"""Provenance of a cohort's results, and its verification (the reviewer's route).

``results/{cohort}/provenance.json`` records the SHA-256 of every input and output of
the cohort, the resolved configuration and its hash, the seeds, the git commit and dirty
state of the workflow source, the Snakemake version, and per rule its environment file
with the pinned and installed versions of its packages. It holds no timestamp and no
absolute path, and its keys are sorted, so two runs of the same inputs, configuration
and source give the same bytes. :func:`verify` rehashes the files a provenance file
lists and reports every difference.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import platform
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from survomics import __version__
from survomics.errors import InputError
from survomics.io import write_text

if TYPE_CHECKING:
    from survomics.config import Settings

LOG = logging.getLogger("survomics")

FORMAT = 1
"""Version of the layout of a provenance file."""

RECORD_NAME = "provenance.json"
"""File name of the provenance record inside ``results/{cohort}/``."""

CONDA_TO_PYPI = {"matplotlib-base": "matplotlib", "python-isal": "isal"}
"""conda-forge package names whose PyPI distribution is named differently."""
"""conda-forge package names whose Python distribution has another name."""

_REQUIREMENT = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(?:(?:==|=|>=|<=|~=)\s*(\S+))?")


def final_outputs(*, outputs: Iterable[str], cohort: str) -> list[str]:
    """The final outputs of ``cohort`` among ``outputs``, its provenance record excepted.

    The ``provenance`` rule's input: every final output under ``results/{cohort}/`` but
    the record itself (which would make a cycle).

    Parameters
    ----------
    outputs
        Final outputs of the workflow (``all_outputs()`` of ``common.smk``).
    cohort
        Cohort id.
    """
    prefix = f"results/{cohort}/"
    return [o for o in outputs if o.startswith(prefix) and o != f"{prefix}{RECORD_NAME}"]


def cohort_inputs(
    *, settings: Settings, cohort: str, config_path: str = "config/config.yaml"
) -> list[str]:
    """The input files of ``cohort``: its data files and the configuration file.

    The data files are those each row's reader reads (:func:`survomics.formats.input_files`:
    a GDC sample sheet and its count files, a cBioPortal study's data files...).

    Parameters
    ----------
    settings
        The validated configuration.
    cohort
        Cohort id.
    config_path
        The configuration file, relative to the working directory.
    """
    from survomics import formats  # noqa: PLC0415 - keeps this module light to import

    files = [name for f in settings.files if f.cohort == cohort for name in formats.input_files(f)]
    return [*dict.fromkeys(files), config_path]


def sheet_rows(*, settings: Settings, cohort: str) -> list[dict[str, Any]]:
    """The cohort's rows of the sheet, as read (defaults and expansions included).

    The record holds these rather than the sheet file's hash: adding another cohort to
    the sheet changes neither this cohort's rows nor its record, so it reruns nothing.
    """
    rows = []
    for spec in settings.files:
        if spec.cohort == cohort:
            row = dataclasses.asdict(spec)
            row["options"] = dict(spec.options)
            row["na_values"] = list(spec.na_values)
            rows.append(row)
    return rows


def rule_env_files(*, rules: Iterable[Any]) -> dict[str, str]:
    """Rule name -> its conda env file as ``envs/<name>.yaml``, for rules that have one.

    Parameters
    ----------
    rules
        The workflow's rules (``workflow.rules``): objects with ``name`` and ``conda_env``.
    """
    return {rule.name: f"envs/{Path(str(rule.conda_env)).name}" for rule in rules if rule.conda_env}


def sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def canonical_hash(value: Any) -> str:
    """SHA-256 of the canonical JSON of ``value`` (sorted keys, no spaces)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def git_state(*, source: str | Path) -> dict[str, Any]:
    """Commit and dirty state of the git checkout holding ``source``.

    Parameters
    ----------
    source
        The workflow's source directory.

    Returns
    -------
    dict
        ``{"commit": <40 hex digits>, "dirty": bool}`` from ``git rev-parse HEAD`` and
        ``git status --porcelain``; both ``None`` when ``source`` is not in a git
        checkout or git is not installed.
    """
    try:
        commit = _run_git(["rev-parse", "HEAD"], cwd=Path(source)).strip()
        status = _run_git(["status", "--porcelain"], cwd=Path(source))
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(status.strip())}


def _run_git(args: list[str], *, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60
    ).stdout


def env_packages(*, path: str | Path) -> dict[str, str | None]:
    """Packages an env file lists, with their pinned versions.

    A conda env file is read line by line: ``- name =1.2`` (or ``name=1.2``,
    ``name==1.2``) under ``dependencies:``, and ``- name==1.2`` under a ``- pip:`` list.
    ``python`` and ``pip`` themselves are left out.

    Parameters
    ----------
    path
        The env file.

    Returns
    -------
    dict
        Package name -> pinned version (``None`` when unpinned), sorted by name.
    """
    packages: dict[str, str | None] = {}
    in_dependencies = False
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line[0].isspace() and not line.startswith("-"):
            in_dependencies = line.startswith("dependencies:")
            continue
        item = line.strip()
        if not in_dependencies or not item.startswith("-"):
            continue
        item = item[1:].strip().strip("\"'")
        match = _REQUIREMENT.match(item)
        if match is None or item.endswith(":"):
            continue  # "- pip:" opens the pip list
        name = match.group(1)
        if name in {"python", "pip"}:
            continue
        packages[name] = match.group(2)
    return dict(sorted(packages.items()))


def installed_version(*, name: str) -> str | None:
    """Version of distribution ``name`` in the running interpreter (``None`` if absent)."""
    try:
        return version(CONDA_TO_PYPI.get(name, name))
    except PackageNotFoundError:
        return None


def environment_record(*, path: str | Path, source: str | Path) -> dict[str, Any]:
    """An env file's path, hash and, per package, its pinned and installed versions.

    ``installed`` is the version in the interpreter that writes the record (with
    per-rule environments, the provenance rule's own); what each rule's environment
    held is recorded from the jobs' logs by :func:`rule_versions`.

    Parameters
    ----------
    path
        The env file, relative to ``source``.
    source
        The workflow's source directory.
    """
    file = Path(source) / path
    return {
        "file": Path(path).as_posix(),
        "sha256": sha256(file),
        "packages": {
            name: {"pinned": pin, "installed": installed_version(name=name)}
            for name, pin in env_packages(path=file).items()
        },
    }


def results_files(*, cohort: str, directory: str | Path = ".") -> list[str]:
    """Every file under ``results/{cohort}/`` but the provenance record, sorted.

    Paths are relative to ``directory`` with ``/`` separators; an interrupted writer's
    temporary files (``.*.tmp``) are left out.
    """
    root = Path(directory)
    folder = root / "results" / cohort
    if not folder.is_dir():
        return []
    return sorted(
        p.relative_to(root).as_posix()
        for p in folder.rglob("*")
        if p.is_file()
        and p.relative_to(folder).as_posix() != RECORD_NAME
        and not (p.name.startswith(".") and p.name.endswith(".tmp"))
    )


_LOG_VERSION = re.compile(r"^INFO survomics: version (\S+) (.+)$")
_LOG_HEADER_LINES = 40
"""A log's version lines are among its first lines (rule function, isolation, versions)."""


def rule_versions(*, cohort: str, directory: str | Path = ".") -> dict[str, dict[str, str]]:
    """Per rule, the package versions its own jobs saw, read from their logs.

    Every job's log (``results/logs/{cohort}/<rule>[.<wildcards>].log``) starts with the
    versions of the packages its interpreter imported (:func:`survomics.workflow.run_rule`).
    Under per-rule environments (conda or environment modules) these are the versions of
    that rule's environment, not of the provenance rule's. When jobs of one rule saw
    different versions, all are listed, comma-separated.

    Parameters
    ----------
    cohort
        Cohort id.
    directory
        The working directory.

    Returns
    -------
    dict
        Rule name -> package -> version (``"not installed"`` where the rule's
        environment lacks the package), sorted.
    """
    folder = Path(directory) / "results" / "logs" / cohort
    seen: dict[str, dict[str, set[str]]] = {}
    for log in sorted(folder.glob("*.log")) if folder.is_dir() else []:
        rule = log.name.split(".", 1)[0]
        with log.open(encoding="utf-8", errors="replace") as fh:
            header = [fh.readline().rstrip("\n") for _ in range(_LOG_HEADER_LINES)]
        started = False
        for line in header:
            if (match := _LOG_VERSION.match(line)) is not None:
                seen.setdefault(rule, {}).setdefault(match.group(1), set()).add(match.group(2))
                started = True
            elif started:
                break  # the versions block has ended: the rule's own messages follow
    return {
        rule: {name: ", ".join(sorted(v)) for name, v in sorted(packages.items())}
        for rule, packages in sorted(seen.items())
    }


def _hashes(names: Sequence[str], *, directory: Path) -> dict[str, str]:
    return {name: sha256(directory / name) for name in sorted(set(names))}


def _relative_name(path: str | Path, *, directory: Path) -> str:
    """``path`` relative to ``directory`` (which it must be inside), ``/``-separated."""
    candidate = Path(path)
    if not candidate.is_absolute():
        return candidate.as_posix()
    try:
        return candidate.resolve().relative_to(directory.resolve()).as_posix()
    except ValueError:
        raise InputError(
            candidate,
            "file outside the working directory; a provenance record holds relative paths",
            fix="keep inputs inside the working directory",
        ) from None


def build_provenance(
    *,
    cohort: str,
    inputs: Sequence[str | Path],
    outputs: Sequence[str | Path],
    config: Mapping[str, Any],
    rule_environments: Mapping[str, str],
    source: str | Path,
    snakemake_version: str,
    directory: str | Path = ".",
    rows: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The provenance record of one cohort.

    Parameters
    ----------
    cohort
        Cohort id.
    inputs
        The cohort's input files (data files, configuration file, sheet), relative to
        ``directory``.
    outputs
        The cohort's final outputs. Each must exist under ``results/{cohort}/``; the
        record lists every file there (intermediate ones too), so that :func:`verify`
        can name files a rerun adds.
    config
        The resolved configuration (defaults filled in).
    rule_environments
        Rule name -> its env file, relative to ``source``.
    source
        The workflow's source directory (holds the env files; its git state is recorded).
    snakemake_version
        Version of the Snakemake that ran the workflow.
    directory
        The working directory that the paths of ``inputs`` and ``outputs`` start from.
    rows
        The cohort's sheet rows (:func:`sheet_rows`), recorded with their hash.

    Returns
    -------
    dict
        The record: JSON-serialisable, no timestamp, no absolute path.

    Raises
    ------
    InputError
        A final output is not a file under ``results/{cohort}/``, or an input is outside
        ``directory``.
    """
    root = Path(directory)
    on_disk = results_files(cohort=cohort, directory=root)
    for output in outputs:
        name = _relative_name(output, directory=root)
        if name not in on_disk:
            raise InputError(
                name,
                f"final output of cohort '{cohort}' missing from results/{cohort}/",
                fix="run the workflow to completion before recording its provenance",
            )
    modelling = config.get("modelling") or {}
    return {
        "format": FORMAT,
        "cohort": cohort,
        "survomics": __version__,
        "python": platform.python_version(),
        "snakemake": snakemake_version,
        "git": git_state(source=source),
        "config": config,
        "config_sha256": canonical_hash(config),
        "sheet_rows": list(rows),
        "sheet_rows_sha256": canonical_hash(list(rows)),
        "seeds": {"modelling.seed": modelling.get("seed")},
        "rules": {name: Path(env).stem for name, env in sorted(rule_environments.items())},
        "rule_versions": rule_versions(cohort=cohort, directory=root),
        "environments": {
            Path(env).stem: environment_record(path=env, source=source)
            for env in sorted(set(rule_environments.values()))
        },
        "inputs": _hashes([_relative_name(p, directory=root) for p in inputs], directory=root),
        "outputs": _hashes(on_disk, directory=root),
    }


def dumps(*, record: Mapping[str, Any]) -> str:
    """The bytes of a provenance file: indented JSON, sorted keys, ASCII, final newline."""
    return json.dumps(record, sort_keys=True, indent=1, ensure_ascii=True, default=str) + "\n"


def write_provenance(*, record: Mapping[str, Any], path: str | Path) -> None:
    """Write ``record`` to ``path`` atomically (see :func:`dumps` for the format)."""
    write_text(path, dumps(record=record))


def verify(*, provenance_path: str | Path, directory: str | Path = ".") -> list[str]:
    """Differences between the files a provenance record lists and those on disk.

    Every listed input and output is rehashed; a missing file, a different hash, and a
    file under ``results/{cohort}/`` that the record does not list are reported, one
    line each (``<path>: <what>``), in that order.

    Parameters
    ----------
    provenance_path
        The provenance file.
    directory
        The working directory that the recorded paths start from.

    Returns
    -------
    list of str
        One line per difference; empty when every file is the recorded one.

    Raises
    ------
    InputError
        ``provenance_path`` is not a provenance record.
    """
    path = Path(provenance_path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        cohort = str(record["cohort"])
        listed = {kind: dict(record[kind]) for kind in ("inputs", "outputs")}
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(
            path,
            f"not a provenance record ({exc.__class__.__name__}: {exc})",
            fix="pass the results/<cohort>/provenance.json that the workflow wrote",
        ) from None
    root = Path(directory)
    problems = []
    for kind, files in listed.items():
        for name, expected in sorted(files.items()):
            file = root / name
            if not file.is_file():
                problems.append(f"{name}: missing ({kind[:-1]} of the recorded run)")
            elif (actual := sha256(file)) != expected:
                problems.append(
                    f"{name}: differs (sha256 {actual[:12]}..., recorded {expected[:12]}...)"
                )
    problems += [
        f"{name}: not in the record (a file the recorded run did not have)"
        for name in results_files(cohort=cohort, directory=root)
        if name not in listed["outputs"]
    ]
    return problems


def provenance_rule(
    *,
    cohort: str,
    inputs: Sequence[str | Path],
    outputs: Sequence[str | Path],
    config: Mapping[str, Any],
    rule_environments: Mapping[str, str],
    source: str | Path,
    snakemake_version: str,
    out: str | Path,
    rows: Sequence[Mapping[str, Any]] = (),
) -> None:
    """Rule ``provenance``: write ``results/{cohort}/provenance.json``."""
    record = build_provenance(
        rows=rows,
        cohort=cohort,
        inputs=inputs,
        outputs=outputs,
        config=config,
        rule_environments=rule_environments,
        source=source,
        snakemake_version=snakemake_version,
    )
    LOG.info(
        "%s: %d inputs, %d files under results/%s/, git %s (dirty: %s)",
        cohort,
        len(record["inputs"]),
        len(record["outputs"]),
        cohort,
        record["git"]["commit"],
        record["git"]["dirty"],
    )
    write_provenance(record=record, path=out)
