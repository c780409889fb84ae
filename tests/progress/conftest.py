"""A fake matter kind for the progress tests, removed after each test."""

import pytest

import factories
from app.progress.registry import unregister_matter_kind


@pytest.fixture
def matters():
    fake = factories.FakeMatters().register()
    yield fake
    unregister_matter_kind(fake.kind)
