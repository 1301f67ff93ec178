from tests.conftest import SHARED_DATA
from tests.helpers import auth, import_file, load_reference_data, post_json


def test_communes_and_prefectures_load_through_s3(client):
    token = load_reference_data(client, SHARED_DATA)
    from chalicelib.store.tables import Commune, Prefecture

    assert Commune.get("210100533").name == "Bourg-en-Bresse"
    assert Prefecture.get("01").city == "Bourg-en-Bresse"
    assert token
