"""`collide test`: each model's `tests:` block — given rows in, expected subjects out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from collide.clues.build import display
from collide.config.catalog import Model

if TYPE_CHECKING:
    from collide.project import Project


@dataclass
class TestOutcome:
    model_id: str
    name: str
    passed: bool
    message: str = ""
    line: int | None = None
    display: str = ""


def run_model_tests(project: Project, models: list[Model]) -> list[TestOutcome]:
    """Each test on its given rows, under the model's limits, on the project's engine."""
    from collide.errors import CollideError, Problem
    from collide.modelrun.execute import (
        check_model,
        execute_model,
        input_schemas,
        resolve_params,
        session_limits,
        with_upstream_schemas,
    )

    config = project.catalog.config
    engine = project.engine()  # collide.yaml's `engine:`, or `--engine`
    schemas = input_schemas(project.catalog, {})
    with_upstream_schemas(project.catalog, schemas)  # `given:` rows for `model:` inputs
    outcomes = []
    for model in models:
        limits = session_limits(model, config, project.root)
        # a model `collide check` refuses (a reason naming a column the SQL lacks, …) fails here
        # too, at the line of the mistake, instead of passing its tests and failing the run
        found = check_model(model, project.catalog, schemas)
        for p in found:
            text = str(Problem(None, None, p.message, p.fix))
            outcomes.append(TestOutcome(model.id, "collide check", False, text, p.line, p.path))
        if found:
            continue
        for t, test in enumerate(model.spec.tests):
            line = model.line("tests", t)
            try:
                inputs = {
                    ds: engine.typed_table(test.given.get(ds, []), schemas[ds])
                    for ds in model.spec.inputs
                }
                params = resolve_params(model, test.params, where=model.display)
                out = execute_model(
                    model,
                    inputs,
                    params,
                    max_evidence_rows=5,
                    threads=1,
                    workdays=config.workdays(),
                    limits=limits,
                    engine=engine,
                )
            except CollideError as exc:
                outcomes.append(
                    TestOutcome(model.id, test.name, False, str(exc), line, model.display)
                )
                continue
            keys = sorted({k for e in test.expect for k in e}) or [model.spec.subject.id]
            expected = {tuple(display(e.get(k)) for k in keys) for e in test.expect}
            actual = {tuple(display(r.get(k)) for k in keys) for r in out.rows}
            if expected == actual:
                outcomes.append(TestOutcome(model.id, test.name, True, "", line, model.display))
            else:
                missing = sorted(expected - actual)
                extra = sorted(actual - expected)
                parts = []
                if missing:
                    parts.append("expected but not found: " + _fmt(keys, missing))
                if extra:
                    parts.append("found but not expected: " + _fmt(keys, extra))
                outcomes.append(
                    TestOutcome(model.id, test.name, False, "; ".join(parts), line, model.display)
                )
    return outcomes


def _fmt(keys: list[str], rows: list[tuple]) -> str:
    return ", ".join("{" + ", ".join(f"{k}={v}" for k, v in zip(keys, r)) + "}" for r in rows)
