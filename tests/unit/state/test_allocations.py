import pytest

from sshorch.state import StateError
from sshorch.state.sqlite import SqliteStore


def test_allocate_and_read(store: SqliteStore) -> None:
    assert store.allocations("vip") == {}
    store.allocate("vip", "service/default/web", "10.96.0.10")
    store.allocate("vip", "service/default/api", "10.96.0.11")
    store.allocate("nodeport", "service/default/web", "30080")
    assert store.allocations("vip") == {"service/default/web": "10.96.0.10", "service/default/api": "10.96.0.11"}
    assert store.allocations("nodeport") == {"service/default/web": "30080"}


def test_same_allocation_again_is_a_no_op(store: SqliteStore) -> None:
    store.allocate("vip", "service/default/web", "10.96.0.10")
    store.allocate("vip", "service/default/web", "10.96.0.10")
    assert store.allocations("vip") == {"service/default/web": "10.96.0.10"}


def test_value_clash_names_the_holder(store: SqliteStore) -> None:
    store.allocate("nodeport", "service/default/web", "30080")
    with pytest.raises(StateError, match="nodeport 30080 is already held by service/default/web"):
        store.allocate("nodeport", "service/default/api", "30080")
    assert store.allocations("nodeport") == {"service/default/web": "30080"}


def test_owner_clash_names_the_current_value(store: SqliteStore) -> None:
    store.allocate("vip", "service/default/web", "10.96.0.10")
    with pytest.raises(StateError, match="vip for service/default/web is already 10.96.0.10"):
        store.allocate("vip", "service/default/web", "10.96.0.99")


def test_same_value_in_different_kinds_is_fine(store: SqliteStore) -> None:
    store.allocate("nodeport", "service/default/web", "30080")
    store.allocate("hostport", "pod/default/web-1", "30080")


def test_release(store: SqliteStore) -> None:
    store.allocate("vip", "service/default/web", "10.96.0.10")
    store.release("vip", "service/default/web")
    store.release("vip", "service/default/missing")
    assert store.allocations("vip") == {}
    store.allocate("vip", "service/default/api", "10.96.0.10")  # free again


def test_replace_sets_exactly_the_mapping(store: SqliteStore) -> None:
    store.allocate("vip", "service/default/old", "10.96.0.1")
    store.allocate("nodeport", "service/default/web", "30080")
    store.replace_allocations("vip", {"service/default/a": "10.96.0.1", "service/default/b": "10.96.0.2"})
    assert store.allocations("vip") == {"service/default/a": "10.96.0.1", "service/default/b": "10.96.0.2"}
    assert store.allocations("nodeport") == {"service/default/web": "30080"}
    store.replace_allocations("vip", {})
    assert store.allocations("vip") == {}


def test_replace_with_duplicate_values_changes_nothing(store: SqliteStore) -> None:
    store.allocate("vip", "service/default/web", "10.96.0.10")
    with pytest.raises(StateError, match="10.96.0.1 given to both"):
        store.replace_allocations("vip", {"service/default/a": "10.96.0.1", "service/default/b": "10.96.0.1"})
    assert store.allocations("vip") == {"service/default/web": "10.96.0.10"}
