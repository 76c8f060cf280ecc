"""`make bench` without the dataset: a clear error naming the fix, and nothing written."""

from vaelab.bench import run as bench


def test_bench_without_data_says_to_run_make_repro(tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = bench.main(["--data", str(tmp_path / "nowhere"), "--skip-pipeline", "--out", str(out)])
    assert code == 1
    assert "run `make repro` first" in capsys.readouterr().err
    assert not out.exists()
