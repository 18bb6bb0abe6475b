"""The place tests read messages in English: the CLI's and the domain's default is Traditional Chinese."""
from __future__ import annotations

import pytest
from flask_babel import force_locale


@pytest.fixture(autouse=True)
def english(app, client):  # noqa: ANN001, ANN201
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    with force_locale("en"):
        yield
