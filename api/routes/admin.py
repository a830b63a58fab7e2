"""Data-subject rights: POST /v1/admin/erasures erases a customer's personal data (role `admin`).

The customer is named by the id the channel knows them by; it is pseudonymised exactly as at
intake (core/pseudonym.py), so the lookup finds the cases filed under the pseudonym without the
raw id ever reaching the workflow history or the case store. The erasure runs as a workflow
(temporal_workflows/retention.py): an accepted request is durable and each case's erasure is
an idempotent activity. What is erased and what is kept, and why, is in docs/compliance.md.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta

from fastapi import APIRouter, Response, status
from temporalio.client import WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import Admin, SettingsDep, TemporalDep
from api.problems import ProblemError
from core.logging import get_logger
from core.models import ErasureRequest, ErasureRequestBody, ErasureResult
from core.names import erasure_workflow_id
from core.pseudonym import pseudonymise_customer_id
from core.redaction import redact
from temporal_workflows.retention import ErasureWorkflow

router = APIRouter(prefix="/v1/admin", tags=["admin"])
log = get_logger(__name__)

# Erasing a handful of cases takes well under a second; longer, the caller polls.
ERASURE_WAIT_SECONDS = 20.0
_REQUEST_ID = r"^[0-9a-f]{32}$"


@router.post(
    "/erasures",
    response_model=ErasureResult,
    responses={202: {"description": "Accepted; still running. GET the Location for the result."}},
)
async def request_erasure(
    body: ErasureRequestBody, admin: Admin, settings: SettingsDep, client: TemporalDep, response: Response
) -> ErasureResult | Response:
    if (body.customer_id is None) == (body.case_id is None):
        raise ProblemError(422, "Invalid request", "Name exactly one of customer_id or case_id.")
    request = ErasureRequest(
        request_id=uuid.uuid4().hex,
        customer_pseudonym=pseudonymise_customer_id(body.customer_id, settings),
        case_id=body.case_id,
        requested_by=admin.subject,
        reference=redact(body.reference).text,
    )
    try:
        handle = await client.start_workflow(
            ErasureWorkflow.run,
            request,
            id=erasure_workflow_id(request.request_id),
            task_queue=settings.workflow_task_queue,
            execution_timeout=timedelta(hours=1),
        )
    except RPCError as error:
        raise ProblemError(503, "Service unavailable", "The erasure could not be started; retry.") from error
    log.info("erasure_requested", request_id=request.request_id, by=admin.subject)
    try:
        return await asyncio.wait_for(handle.result(), timeout=ERASURE_WAIT_SECONDS)
    except asyncio.TimeoutError:
        return _accepted(request.request_id, response)
    except WorkflowFailureError as error:
        raise ProblemError(500, "Erasure failed", "The erasure workflow failed; see its history.") from error


@router.get("/erasures/{request_id}", response_model=ErasureResult, responses={202: {}, 404: {}})
async def erasure_result(
    request_id: str, admin: Admin, client: TemporalDep, response: Response
) -> ErasureResult | Response:
    if not re.match(_REQUEST_ID, request_id):
        raise ProblemError(404, "Not found", "No such erasure request.")
    handle = client.get_workflow_handle(erasure_workflow_id(request_id), result_type=ErasureResult)
    try:
        return await asyncio.wait_for(handle.result(), timeout=1.0)
    except asyncio.TimeoutError:
        return _accepted(request_id, response)
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise ProblemError(404, "Not found", "No such erasure request.") from error
        raise ProblemError(503, "Service unavailable", "Try again later.") from error


def _accepted(request_id: str, response: Response) -> Response:
    response.status_code = status.HTTP_202_ACCEPTED
    response.headers["Location"] = f"/v1/admin/erasures/{request_id}"
    return response
