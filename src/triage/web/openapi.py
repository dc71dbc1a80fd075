"""The OpenAPI document of the ``/v1/`` API (served at ``/v1/openapi.json``)."""

from __future__ import annotations

import json
from typing import Any

from ..decision import decision_json_schema

_RECORD = {"$ref": "#/components/schemas/Complaint"}
_ERROR = {"description": "a bad request: the body, a field or a path",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_WRITE = {"403": {"description": "no write: read-only, or the token or CSRF token is missing",
                  "content": {"application/json": {
                      "schema": {"$ref": "#/components/schemas/Error"}}}}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _post(summary: str, body: dict[str, Any], answer: dict[str, Any],
          extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"post": {"summary": summary,
                     "requestBody": {"required": True, "content": {
                         "application/json": {"schema": body}}},
                     "responses": {"200": answer, "400": _ERROR, "413": _ERROR,
                                   "422": _ERROR, **(extra or {})}}}


def openapi_document(version: str) -> dict[str, Any]:
    """The document, for the package ``version``."""
    decision = json.loads(decision_json_schema())
    decision.pop("$schema", None)
    problems = {"type": "object", "properties": {
        "ok": {"type": "boolean"}, "version": {"type": ["string", "null"]},
        "rules": {"type": "integer"},
        "problems": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "triage workbench API", "version": version,
                 "description": "Decide, explain and check complaints with the policy the "
                                "workbench serves; writes need the token."},
        "paths": {
            "/v1/triage": _post("Decide one complaint (lean decision; ?detail=full adds the "
                                "evidence)", _RECORD,
                                _json({"$ref": "#/components/schemas/Decision"}, "decision")),
            "/v1/explain": _post("Decide and explain: the full decision, the text report and "
                                 "the text cut into matched pieces", _RECORD,
                                 _json({"type": "object", "properties": {
                                     "decision": {"$ref": "#/components/schemas/Decision"},
                                     "report": {"type": "string"},
                                     "pieces": {"type": "array", "items": {
                                         "type": "object", "properties": {
                                             "text": {"type": "string"},
                                             "rules": {"type": "array",
                                                       "items": {"type": "string"}}}}}}},
                                       "explanation")),
            "/v1/guard": _post("Forbidden phrases in a draft reply",
                               {"type": "object", "required": ["text"],
                                "properties": {"text": {"type": "string"}}},
                               _json({"type": "object", "properties": {"findings": {
                                   "type": "array", "items": {"type": "object"}}}},
                                   "findings")),
            "/v1/check": _post("Check the draft, with unsaved texts laid over it",
                               {"type": "object", "properties": {"files": {
                                   "type": "object",
                                   "additionalProperties": {"type": "string"}}}},
                               _json(problems, "what check found")),
            "/v1/publish": _post("Publish the draft: its cases must pass; written into the "
                                 "policy folder and served",
                                 {"type": "object", "properties": {
                                     "author": {"type": "string"},
                                     "note": {"type": "string"}}},
                                 _json({"type": "object"}, "the version serving now"),
                                 {**_WRITE, "409": _ERROR}),
            "/v1/draft": {"get": {
                "summary": "The draft against the published folder: its changed files, "
                           "the files published since it began, the files changed on both",
                "responses": {"200": _json({"type": "object", "properties": {
                    "changed": {"type": "array", "items": {"type": "object"}},
                    "published_moved": {"type": "array", "items": {"type": "string"}},
                    "conflicts": {"type": "array", "items": {"type": "string"}},
                    "version": {"type": ["string", "null"]},
                    "published": {"type": "string"}}}, "draft")}}},
            "/v1/policy": {"get": {"summary": "The policy serving now and its files",
                                   "responses": {"200": _json({"type": "object"}, "policy")}}},
            "/v1/versions": {"get": {"summary": "Published versions, newest first",
                                     "responses": {"200": _json({"type": "array"},
                                                                "versions")}}},
            "/v1/openapi.json": {"get": {"summary": "This document",
                                         "responses": {"200": _json({"type": "object"},
                                                                    "OpenAPI")}}},
        },
        "components": {
            "schemas": {
                "Complaint": {"type": "object", "required": ["id", "channel", "text"],
                              "description": "A complaint record, as triage route reads "
                                             "it", "additionalProperties": True},
                "Decision": decision,
                "Problem": {"type": "object", "properties": {
                    k: {"type": t} for k, t in (
                        ("file", "string"), ("path", ["string", "null"]),
                        ("line", "integer"), ("column", "integer"),
                        ("severity", "string"), ("code", "string"), ("message", "string"),
                        ("hint", ["string", "null"]))}},
                "Error": {"type": "object", "required": ["error"],
                          "properties": {"error": {"type": "string"}}},
            },
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        },
    }
