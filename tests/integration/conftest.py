"""Fixtures shared by the integration tests: the reference data loaded by an operator, a commune with officials."""
import pytest

from tests.conftest import REFERENCE_DATA
from tests.helpers import commune_with_ready_officials, load_reference_data


@pytest.fixture
def operator(client):
    """The card maker's operator, logged in, after loading the sample communes, préfectures and directory files."""
    return load_reference_data(client, REFERENCE_DATA)


@pytest.fixture
def commune(client, aws, operator):
    """The demo commune registered, with two officials whose photos are ready: (agent token, official ids)."""
    return commune_with_ready_officials(client, aws, operator, REFERENCE_DATA)
