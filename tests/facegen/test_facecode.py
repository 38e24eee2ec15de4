import numpy as np
import pytest

from facegen.facecode import FaceCode, FaceCodeError


def _code(seed: int = 0, parts=("eyes",)) -> FaceCode:
    rng = np.random.default_rng(seed)
    return FaceCode(rng.standard_normal((8, 16)), {r: rng.standard_normal((8, 16)) for r in parts})


def test_round_trip_is_exact():
    code = _code(parts=("eyes", "nose", "mouth"))
    again = FaceCode.from_bytes(code.to_bytes())
    assert again == code
    assert again.base.tobytes() == code.base.tobytes()
    assert list(again.parts) == ["eyes", "mouth", "nose"]


def test_serialization_is_stable():
    # The byte layout is a stored format: the same code always gives the same bytes.
    assert _code(3).to_bytes() == _code(3).to_bytes()
    assert _code(3).to_bytes()[:4] == b"DFC\x01"


def test_part_falls_back_to_base():
    code = _code(parts=())
    assert code.part("eyes") is code.base
    donor = np.ones((8, 16))
    picked = code.with_part("eyes", donor)
    assert np.array_equal(picked.part("eyes"), donor)
    assert code.parts == {}  # the original is untouched


@pytest.mark.parametrize("data", [b"", b"hello world", b"DFC\x09" + b"\0" * 20])
def test_garbage_is_refused(data):
    with pytest.raises(FaceCodeError):
        FaceCode.from_bytes(data)


def test_truncated_bytes_are_refused():
    with pytest.raises(FaceCodeError, match="length"):
        FaceCode.from_bytes(_code().to_bytes()[:-4])


def test_shapes_are_checked():
    with pytest.raises(FaceCodeError, match="num_ws"):
        FaceCode(np.zeros(16))
    with pytest.raises(FaceCodeError, match="differs"):
        FaceCode(np.zeros((8, 16)), {"eyes": np.zeros((4, 16))})
