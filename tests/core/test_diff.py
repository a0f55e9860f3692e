from confluens.core import diff_specs


def test_diff_reports_added_changed_removed_and_fields() -> None:
    old = {"source:a": {"x": 1, "y": 2}, "source:b": {"x": 1}, "entity:c": {"k": ["id"]}}
    new = {"source:a": {"x": 1, "y": 3}, "source:b": {"x": 1}, "source:d": {"x": 0}}
    diff = diff_specs(old, new)
    assert diff.added == ["source:d"]
    assert diff.removed == ["entity:c"]
    assert [(c.key, c.fields) for c in diff.changed] == [("source:a", ["y"])]
    assert diff.unchanged == ["source:b"]
    assert not diff.empty
    assert diff_specs(new, new).empty
