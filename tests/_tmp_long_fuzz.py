from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.core.test_definition_fuzz as f
from confluens.errors import DefinitionError


@settings(max_examples=3000, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.data())
def long(data: st.DataObject) -> None:
    try:
        view = data.draw(f.views())
    except DefinitionError:
        return
    f.computed(view)


long()
print("LONG FUZZ OK")
