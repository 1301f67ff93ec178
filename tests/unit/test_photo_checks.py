"""The one rule of the photo checks for ordering (chalicelib/domain/photo_checks.py)."""
from chalicelib.domain.photo_checks import ERROR, WARNING, blocking_checks, blocks_ordering


def check(code: str, level: str) -> dict:
    return {"code": code, "level": level, "message": f"{code} ({level})"}


def test_only_error_level_checks_block_ordering_and_keep_their_order():
    checks = [check("face_off_centre", WARNING), check("no_face", ERROR), check("blurred", WARNING),
              check("resolution_too_low", ERROR)]
    assert [c["code"] for c in blocking_checks(checks)] == ["no_face", "resolution_too_low"]
    assert blocks_ordering(checks)
    assert not blocks_ordering([check("face_off_centre", WARNING)])


def test_a_photo_never_checked_blocks_nothing():
    assert blocking_checks(None) == [] and not blocks_ordering(None) and not blocks_ordering([])
