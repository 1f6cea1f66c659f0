"""The generator and the data order against values recorded from the engine (src/main/engine/rng.ts, train/data-source.ts)."""
from equiav_trainer.rng import Rng, batch_indices, derived_rng


def test_xoshiro_stream_matches_the_engine():
    r = Rng(42)
    assert [r.next_uint32() for _ in range(3)] == [3329931011, 4039376695, 4063096092]
    assert r.uniform() == 0.6806648460757172
    assert r.randint(-1024, 1024) == -493
    assert r.permutation(10) == [1, 6, 8, 7, 5, 4, 3, 0, 9, 2]


def test_seeding_of_negative_and_large_seeds_matches_the_engine():
    assert Rng(-5).get_state() == [2946182287, 2238665134, 883582562, 3937999000]
    assert Rng(2**40 + 3).get_state() == [261499325, 3913460668, 1723949221, 2360040845]
    assert derived_rng(123456, "step", 98765).get_state() == [3928938109, 574717554, 3207089993, 3946748026]


def test_batch_composition_matches_the_engine():
    assert batch_indices(37, 50, 8, 3) == (6, [2, 23, 8, 11, 33, 3, 0, 44])


def test_state_round_trip_continues_the_stream():
    a = Rng(9)
    a.uniform()
    b = Rng.from_state(a.get_state())
    assert [a.next_uint32() for _ in range(5)] == [b.next_uint32() for _ in range(5)]
