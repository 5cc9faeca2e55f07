"""A diagnostic job type (enabled by configuration): sleeps in steps, to check workers and cancellation."""

import time
from typing import Any
from uuid import UUID

from application.jobs.handler import JobContext, JobHandler, JobParameterError

DIAGNOSTIC_JOB = "diagnostic_sleep"


class DiagnosticSleep(JobHandler):
    """`{"seconds": S, "steps": N, "cooperative": true}`; non-cooperative steps never check for cancel."""

    job_type = DIAGNOSTIC_JOB
    rerun_on_interrupt = True

    def check(self, project_id: UUID | None, parameters: dict[str, Any]) -> None:
        seconds = parameters.get("seconds", 1)
        if not isinstance(seconds, (int, float)) or not 0 <= seconds <= 3600:
            raise JobParameterError("parameters.seconds must be a number from 0 to 3600.")

    def run(self, context: JobContext) -> dict[str, Any]:
        seconds = float(context.parameters.get("seconds", 1))
        steps = int(context.parameters.get("steps", 10))
        cooperative = bool(context.parameters.get("cooperative", True))
        for step in range(steps):
            if cooperative:
                context.progress(100 * step / steps, f"step {step + 1} of {steps}")
                time.sleep(seconds / steps)
            else:
                deadline = time.monotonic() + seconds / steps
                while time.monotonic() < deadline:  # busy on purpose: only a hard abort stops it
                    pass
            context.log(f"step {step + 1} of {steps} done")
        return {"slept_s": seconds, "steps": steps}
