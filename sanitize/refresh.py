"""`sanitize refresh ENV`: the nightly job, as configured in sanitize.yaml, as one safe command.

load config -> isolation guards (no connection to the target yet) -> rules and key -> open the source
(read-only, one snapshot) -> coverage (fails closed before a row is read) -> target marker (refuses a
database owned by another environment or nobody; reads only) -> anonymise (or synthesise) into a shadow
copy (the engine refuses objects it did not create before it writes) -> leak check on the shadow ->
publish atomically -> marker -> run report. Any failure leaves the target as it was (a refusal leaves
nothing behind, not even a marker) and still writes a report saying why.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sanitize.config import DEFAULT_CONFIG, Config, load_config
from sanitize.errors import SanitizeError
from sanitize.keys import SecretKey, load_key

log = logging.getLogger("sanitize")

Progress = Callable[[str, int, int | None], None]


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def refresh(
    environment: str,
    config: Config | str | Path = DEFAULT_CONFIG,
    *,
    dry_run: bool = False,
    init_target: bool = False,
    key: SecretKey | None = None,
    report_path: str | Path | None = None,
    progress: Progress | None = None,
    mode: str | None = None,
) -> dict[str, Any]:
    """Refresh `environment` from its configured source; returns the run report (also written to disk).

    Raises the SanitizeError that stopped the run (after writing the report). `dry_run` does everything
    but publish (and writes no marker); in synth mode it stops after the guards and planning.
    """
    from sanitize import guards
    from sanitize.db import resolve
    from sanitize.logs import add_secrets, set_environment
    from sanitize.report import build_report, prepare_output, write_report
    from sanitize.rules import load_rules
    from sanitize.sources import open_source

    started = time.perf_counter()
    cfg = config if isinstance(config, Config) else load_config(config)
    set_environment(environment)
    job = cfg.job(environment)
    if mode is not None and mode != job.mode:  # `sanitize seed ENV` runs the job as synth
        job = job.model_copy(update={"mode": mode})
    env = cfg.environment(environment)
    urls = cfg.environment_urls()
    sref = resolve(job.from_, environments=urls)
    tref = resolve(environment, environments=urls)
    secrets = [sref.password, tref.password]
    add_secrets(*secrets)
    out = Path(report_path) if report_path is not None else cfg.report_path(environment, _stamp())
    prepare_output(out, "run report")  # before anything runs: a report that cannot be written is bad input
    latest = prepare_output(cfg.latest_report_path(environment), "run report")  # `sanitize report ENV`
    context: dict[str, Any] = {
        "command": "refresh",
        "environment": environment,
        "mode": job.mode,
        "source": sref.display,
        "target": tref.display,
        "rules_path": job.rules,
        "dry_run": dry_run,
    }
    warnings: list[str] = []
    run: Any = None
    verify_result: Any = None
    try:
        warnings += guards.check_isolation(tref, target_env=environment, config=cfg, source=sref)
        for w in warnings:
            log.warning(w)
        k = key or load_key(dotenv=cfg.dotenv_files())  # the .env next to sanitize.yaml, as for URLs
        context["key_fingerprint"] = k.fingerprint
        rules = load_rules(job.rules)
        context["rules_sha256"] = rules.digest
        if job.mode == "synth":
            run = _synth(job, sref, tref, rules, environment, env.role, dry_run, init_target, guards)
        else:
            from sanitize.pipeline import DEFAULT_BATCH, RunReport, anonymize
            from sanitize.verify import VerifyOptions, verify_plan

            run = RunReport(
                command="refresh",
                source=sref.display,
                target=tref.display,
                rules=str(job.rules),
                rules_sha256=rules.digest,
                started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                environment=environment,
            )
            with open_source(sref) as src:
                # decided before anything is written; the marker is written once the load is published
                guards.check_marker(tref, environment, init_target=init_target)

                def before_publish(load: Any, plan: Any) -> None:
                    nonlocal verify_result
                    if not job.verify:
                        return
                    log.info("verify: leak check of the shadow copy before publishing")
                    with load.source() as shadow:
                        options = VerifyOptions(progress=progress)
                        verify_result = verify_plan(src, shadow, plan, k, options)
                    verify_result.raise_for_problems(before_publish=True)

                anonymize(
                    rules,
                    src,
                    tref,
                    key=k,
                    batch_size=job.batch_size or DEFAULT_BATCH,
                    progress=progress,
                    before_publish=before_publish,
                    publish=not dry_run,
                    environments=urls,
                    report=run,
                    init_target=init_target,
                )
            if not dry_run:
                guards.ensure_marker(tref, environment, env.role)
                run.status = "ok"
        doc = build_report(run, warnings=warnings, verify=verify_result, **context)
        doc["status"] = "ok"
        doc["published"] = not dry_run
    except (SanitizeError, KeyboardInterrupt) as exc:
        # a failure, or Ctrl-C / SIGTERM (the CLI raises KeyboardInterrupt for it): the report says so
        if isinstance(exc, KeyboardInterrupt):
            from sanitize.pipeline import interrupted_by

            message, status = f"interrupted by {interrupted_by(exc)}", "interrupted"
        else:
            message, status = exc.message, f"failed: {type(exc).__name__}"
        published = bool(run.get("published") if isinstance(run, dict) else getattr(run, "published", False))
        doc = build_report(run, warnings=warnings, verify=verify_result, error=message, **context)
        doc["status"], doc["published"] = status, published
        doc["seconds"] = round(time.perf_counter() - started, 4)
        doc["report_path"] = str(write_report(doc, out, secrets=secrets, latest=latest))
        exc.report_path = doc["report_path"]  # type: ignore[union-attr]  # the CLI points at it
        exc.published = published  # type: ignore[union-attr]
        log.error("refresh %s %s: %s (report: %s)", environment, status, message, out)
        raise
    doc["seconds"] = round(time.perf_counter() - started, 4)
    doc["report_path"] = str(write_report(doc, out, secrets=secrets, latest=latest))
    log.info("refresh %s: %s rows in %.1fs (report: %s)", environment, doc.get("rows"), doc["seconds"], out)
    return doc


def seed(
    environment: str = "dev",
    config: Config | str | Path = DEFAULT_CONFIG,
    *,
    init_target: bool = False,
    force: bool = False,
    key: SecretKey | None = None,
) -> dict[str, Any]:
    """`sanitize seed ENV`: run ENV's refresh job as synth, for developer (`role: dev`) environments.

    Any other role (a shared staging database, say) is refused (TargetRefusedError) unless `force`:
    seeding replaces its data with synthetic rows. Returns the run report, as `refresh` does.
    """
    from sanitize.errors import TargetRefusedError

    cfg = config if isinstance(config, Config) else load_config(config)
    role = cfg.environment(environment).role
    if role != "dev" and not force:
        raise TargetRefusedError(
            f"environment {environment!r} has role {role}, and `sanitize seed` fills developer "
            f"(role: dev) environments only: it would replace the data of {environment!r} with synthetic "
            f"rows; nothing was written. Run `sanitize refresh {environment}` for its configured job, or "
            f"pass --force to seed {environment!r} anyway"
        )
    return refresh(environment, cfg, init_target=init_target, key=key, mode="synth")


def _synth(
    job: Any,
    sref: Any,
    tref: Any,
    rules: Any,
    environment: str,
    role: str,
    dry_run: bool,
    init_target: bool,
    guards: Any,
) -> dict[str, Any]:
    """Mode synth: only the source's schema (and row counts) is read; synthetic rows are loaded."""
    from sanitize.synth import synthesize

    guards.check_marker(tref, environment, init_target=init_target)  # before anything is written
    if dry_run:
        return {
            "tables": [],
            "status": "ok",
            "checks": [],
            "warnings": ["dry run in synth mode: guards and config checked; no data was generated"],
        }
    rep = synthesize(
        tref,
        schema_from=sref,
        rules=rules,
        rows=job.rows,
        scale=job.scale,
        seed=job.seed or 0,
        init_target=init_target,
        environments={},  # both are resolved already, and refresh ran the isolation guards itself
    )
    guards.ensure_marker(tref, environment, role)
    return {
        "tables": [{"table": t, "rows": n, "seconds": 0.0, "strategies": {}} for t, n in rep.rows.items()],
        "status": "ok",
        "published": True,
        "checks": [],
        "warnings": [],
        "synth": rep.model_dump(mode="json", exclude={"modes"}),
    }
