"""Schemathesis fuzzes every /api operation from the OpenAPI schema, authenticated as the
county admin (token) with some data present: no input may cause a server error."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from webtest_support import PASSWORD_ENV, make_context, place_order

from broadcasts.announcements import AnnouncementDraft, AnnouncementService
from core.actors import Actor
from web.accounts import Accounts
from web.app import create_app

pytestmark = pytest.mark.slow  # fuzzing: 25 cases per operation

TOKEN: dict[str, str] = {}


@pytest.fixture(scope="module")
def web_schema(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    ctx = make_context(Path(tmp_path_factory.mktemp("schema")))
    place_order(ctx)
    AnnouncementService(ctx).draft(
        AnnouncementDraft(text="今晚八点停水,请大家提前接好水。", audience=["dongshan"]), Actor.staff("county_admin")
    )
    app = create_app(ctx, environ=PASSWORD_ENV, announce=None)
    TOKEN["value"] = Accounts(ctx).create_token("county_admin", "schemathesis")
    return schemathesis.openapi.from_asgi("/api/openapi.json", app)


schema = schemathesis.pytest.from_fixture("web_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_has_no_server_errors(case) -> None:  # type: ignore[no-untyped-def]
    response = case.call(headers={"Authorization": f"Bearer {TOKEN['value']}"})
    case.validate_response(response, checks=[not_a_server_error])
