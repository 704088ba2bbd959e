"""The load test, short: 20 participants for 10 s, the server SIGKILLed once mid-run; nothing lost, nothing twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from gazesite.collect.loadtest import LoadConfig, format_report, loopback_address, percentile, run_loadtest


@pytest.mark.slow
def test_no_sample_is_lost_or_duplicated_across_a_sigkill(tmp_path: Path) -> None:
    figures = run_loadtest(LoadConfig(participants=20, seconds=10, kill_at=(5.0,), down_seconds=1.5, drain_seconds=30), tmp_path)
    print(format_report(figures))
    assert [event.split(" at ")[0] for event in figures["events"]] == ["SIGKILL", "restarted"]
    assert any(name.startswith("no answer") for name in figures["requests"]), figures["requests"]  # the kill was felt
    assert figures["generated_batches"] >= 20 * 10 / 0.5 * 0.7  # the participants really posted throughout
    assert figures["generated_samples"] == figures["stored_samples"] > 0
    assert figures["lost_samples"] == 0 and figures["duplicated_samples"] == 0 and figures["unsent_batches"] == 0


def test_participants_have_distinct_loopback_addresses() -> None:
    addresses = [loopback_address(i) for i in range(1000)]
    assert len(set(addresses)) == 1000 and "127.0.0.1" not in addresses
    assert all(a.startswith("127.") and all(0 <= int(part) <= 255 for part in a.split(".")) for a in addresses)


def test_the_load_test_refuses_unbounded_runs(tmp_path: Path) -> None:
    for bad in (LoadConfig(participants=5000), LoadConfig(seconds=3600), LoadConfig(seconds=10, kill_at=(20.0,))):
        with pytest.raises(ValueError):
            run_loadtest(bad, tmp_path)
    assert not list(tmp_path.iterdir())  # refused before any server started


def test_percentile_is_nearest_rank() -> None:
    values: list[float] = list(range(1, 101))
    assert percentile(values, 0.99) == 99 and percentile(values, 0.5) == 50 and percentile([7], 0.99) == 7
