"""The extracted schemas the tests validate against are those of OpenAI's spec in shared/reference."""

from __future__ import annotations

import conformance
import pytest
from data.extract_schemas import subset


@pytest.mark.skipif(not conformance.reference_available(), reason=conformance.NO_REFERENCE)
@pytest.mark.parametrize("name", sorted(conformance.SPECS))
def test_the_extracted_schemas_match_the_reference_spec(name: str) -> None:
    assert conformance.subset(name) == subset(name), "run: python tests/data/extract_schemas.py"
