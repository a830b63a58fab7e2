"""RFC 9457 problem details for every error the API returns, and their place in /openapi.json.

No response carries a stack trace or an exception's text: unexpected exceptions answer a generic
500 with an `error_id` that is also logged, so an operator can find the failure without the caller
learning anything about the internals.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.logging import get_logger

PROBLEM_JSON = "application/problem+json"
log = get_logger(__name__)


class ProblemDetails(BaseModel):
    """RFC 9457 problem document; `errors` lists validation failures, other members may follow."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str


class ProblemError(Exception):
    """Raise from a route or dependency to answer with a problem document."""

    def __init__(
        self, status: int, title: str, detail: str, *, headers: Mapping[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra


def problem_body(status: int, title: str, detail: str, instance: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": f"https://errors.carepharm.example/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = problem_body(status, title, detail, request.url.path, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}))


def _safe_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Never echo the submitted values back: they may hold personal data.
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]


def _status_title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "HTTP error"


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(
            request,
            422,
            "Invalid request",
            "The request failed validation.",
            errors=_safe_errors(exc),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # 404/405 from the router and framework-raised errors; `Allow` etc. are kept.
        return problem_response(
            request, exc.status_code, _status_title(exc.status_code), str(exc.detail), headers=exc.headers
        )

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(request, exc.status, exc.title, exc.detail, headers=exc.headers, **exc.extra)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The exception's text may quote customer data: log its type and where, never its message.
        error_id = uuid.uuid4().hex
        log.error("unhandled_exception", error_id=error_id, error=type(exc).__name__, path=request.url.path)
        return problem_response(
            request,
            500,
            "Internal server error",
            "The request could not be completed; report the error_id if it persists.",
            error_id=error_id,
        )


# --------------------------------------------------------------------------- OpenAPI


def _problem_response(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
    }
    if headers:
        response["headers"] = headers
    return response


def _header(description: str, schema_type: str = "string") -> dict[str, Any]:
    return {"description": description, "schema": {"type": schema_type}}


def install_problem_openapi(app: FastAPI) -> None:
    """Declare the problem+json error responses of every operation in /openapi.json."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ProblemDetails"] = ProblemDetails.model_json_schema()
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                _declare_problems(operation)
        _declare_links(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _declare_problems(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    problems: dict[str, dict[str, Any]] = {}
    if operation.get("security"):
        problems["401"] = _problem_response(
            "Missing or invalid credentials",
            {"WWW-Authenticate": _header("Bearer challenge (RFC 6750)")},
        )
        problems["403"] = _problem_response("The caller has none of the operation's roles")
        problems["429"] = _problem_response(
            "The credential's rate limit is used up",
            {"Retry-After": _header("Seconds until a retry may succeed", "integer")},
        )
    if operation.get("parameters") or operation.get("requestBody"):
        problems["422"] = _problem_response("The request failed validation")
    if operation.get("requestBody"):
        problems["413"] = _problem_response("The request body is larger than the configured cap")
    problems["500"] = _problem_response("Unexpected error (no internals are disclosed)")
    # Route-specific errors (404 unknown case, 409 conflict, 503 dependency down) and anything
    # the framework answers (405, 400) are problem documents too.
    problems["default"] = _problem_response("Error (RFC 9457 problem details)")
    for status, response in problems.items():
        # A route's own description of an error code wins; its content becomes problem+json.
        if status in responses and status not in ("422",):
            responses[status]["content"] = response["content"]
            responses[status].setdefault("headers", response.get("headers", {}))
            if not responses[status]["headers"]:
                responses[status].pop("headers")
        else:
            responses[status] = response


# Follow-up operations a client (and schemathesis' stateful phase) can take with a response's ids.
_LINKS = {
    ("/v1/messages", "post", ("200", "202")): (
        "$response.body#/case_id",
        "case_id",
        [
            ("/v1/cases/{case_id}", "get", "GetCase"),
            ("/v1/cases/{case_id}/triage", "post", "TriageCase"),
            ("/v1/cases/{case_id}/decision", "post", "DecideSafetyCase"),
            ("/v1/cases/{case_id}/ticket", "post", "UpdateTicket"),
        ],
    ),
    ("/v1/admin/api-keys", "post", ("201",)): (
        "$response.body#/record/key_id",
        "key_id",
        [("/v1/admin/api-keys/{key_id}", "delete", "RevokeApiKey")],
    ),
}


def _declare_links(schema: dict[str, Any]) -> None:
    paths: dict[str, Any] = schema.get("paths", {})
    for (path, method, statuses), (expression, parameter, targets) in _LINKS.items():
        source = paths.get(path, {}).get(method)
        if source is None:
            continue
        links = {
            name: {
                "operationId": paths[target][target_method]["operationId"],
                "parameters": {parameter: expression},
            }
            for target, target_method, name in targets
            if target_method in paths.get(target, {})
        }
        for status in statuses:
            if status in source.get("responses", {}):
                source["responses"][status]["links"] = links
