import threading
from collections.abc import Callable

from sshorch.state import StateError
from sshorch.state.sqlite import SqliteStore


def run_threads(count: int, work: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_threads_share_one_store(store: SqliteStore) -> None:
    def work(i: int) -> None:
        for n in range(25):
            store.set_counter(f"t{i}/{n}", n)
            store.record_revision(f"deployment/default/w{i}", f"h{n}", {"n": n}, now=n)
            store.node_health()

    run_threads(8, work)
    assert len(store.counters("t")) == 8 * 25
    for i in range(8):
        current = store.current_revision(f"deployment/default/w{i}")
        assert current is not None and current.number == 25


def test_threads_racing_for_one_value_give_it_to_one_owner(store: SqliteStore) -> None:
    winners: list[int] = []

    def work(i: int) -> None:
        try:
            store.allocate("nodeport", f"service/default/s{i}", "30080")
            winners.append(i)
        except StateError:
            pass

    run_threads(8, work)
    assert len(winners) == 1
    assert store.allocations("nodeport") == {f"service/default/s{winners[0]}": "30080"}
