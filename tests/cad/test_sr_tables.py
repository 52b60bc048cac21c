"""highdicom's attribute table read piecewise (mammoview.cad.sr_tables): the same table, in highdicom's own cache,
mostly out of the garbage collector's sight; and nothing broken where highdicom is not the one it was written for."""

from __future__ import annotations

import gc
import json
import pkgutil

import pytest
from highdicom import _standard_utils as standard

from mammoview.cad import sr_tables
from mammoview.cad.sr_tables import frozen, piecewise_loads, untracked

TEXTS = [
    '{"a": [1, 2, {"b": null}], "c": "\\u00e9\\"}", "d": {}, "e": [] }',
    '  {\n "only" : true }\n',
    "{}",
    '{"k": 1, "k": 2}',  # (the last one wins, as with json.loads)
    "[1, 2, 3]",  # not an object: json.loads reads it
    '"text"',
    "3.5",
]


@pytest.mark.parametrize("text", TEXTS)
def test_piecewise_loads_reads_what_json_loads_reads(text):
    assert piecewise_loads(text) == json.loads(text)


@pytest.mark.parametrize("text", ['{"a": 1,}', '{"a" 1}', '{"a": 1} x', '{"a": 1', "{1: 2}", "", "{"])
def test_piecewise_loads_refuses_what_json_loads_refuses_with_its_error(text):
    with pytest.raises(json.JSONDecodeError) as ours:
        piecewise_loads(text)
    with pytest.raises(json.JSONDecodeError) as theirs:
        json.loads(text)
    assert str(ours.value) == str(theirs.value)


def test_each_member_goes_through_the_callable_given():
    assert piecewise_loads('{"a": [1], "b": 2}', lambda v: ("seen", v)) == {"a": ("seen", [1]), "b": ("seen", 2)}


def test_a_module_is_stored_as_tuples_that_the_garbage_collector_does_not_walk():
    items = json.loads('[{"keyword": "A", "type": "1", "path": []}, {"keyword": "B", "type": "3", "path": ["A", "C"]}]')
    assert all(gc.is_tracked(i) for i in items)  # (as json.loads makes them)
    module = untracked(items)
    assert module == frozen(items) == ({"keyword": "A", "type": "1", "path": ()},
                                       {"keyword": "B", "type": "3", "path": ("A", "C")})  # fmt: skip
    assert not any(gc.is_tracked(i) or gc.is_tracked(i["path"]) for i in module)


def test_preload_fills_highdicoms_cache_with_the_same_table(monkeypatch):
    monkeypatch.setattr(sr_tables, "_done", False)
    standard.get_module_attribute_map.cache_clear()  # (as in a fresh process)
    sr_tables.preload()
    table = standard.get_module_attribute_map()
    assert standard.json is json  # (given back)
    data = pkgutil.get_data("highdicom", "_standard/module_attribute_map.json")
    assert data is not None
    assert table == {k: frozen(v) for k, v in json.loads(data).items()}
    assert sum(gc.is_tracked(item) for module in table.values() for item in module) == 0
    assert standard.get_module_attribute_map.cache_info().currsize == 1  # highdicom reads this one from now on


def test_preload_leaves_a_highdicom_it_was_not_written_for_alone(monkeypatch):
    monkeypatch.setattr(sr_tables, "_done", False)
    called: list[int] = []
    monkeypatch.setattr(standard, "get_module_attribute_map", lambda: called.append(1) or {})  # (no lru_cache)
    sr_tables.preload()
    assert called == [] and standard.json is json and gc.isenabled()
    sr_tables.preload()  # once a process: a second call returns at once
    assert called == []


def test_a_failing_read_gives_the_collector_and_json_back(monkeypatch):
    monkeypatch.setattr(sr_tables, "_done", False)
    monkeypatch.setattr(standard.pkgutil, "get_data", lambda *a: None)  # (highdicom raises FileNotFoundError)
    standard.get_module_attribute_map.cache_clear()
    try:
        sr_tables.preload()  # logged, not raised: highdicom reads it itself when the SR is built
        assert standard.json is json and gc.isenabled()
    finally:
        monkeypatch.undo()
        standard.get_module_attribute_map.cache_clear()  # (highdicom reads the table again when it needs it)
