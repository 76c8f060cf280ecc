"""The printed table of `make bench`: one row per measured number (rows not measured in
this run are left out), and a footer naming the kernels that ran and the peak's range."""

from __future__ import annotations

from typing import Any

from vaelab.bench import remote

RATE = "{:,.0f}"
SHARE = "{:.1%} – {:.1%}"  # vs the highest and the lowest peak measured
SPLIT = "{:.1f} s ({:.1%})"

ROWS = (
    (
        "peak float32 matmul, whole machine (GFLOP/s)",
        ("peak_machine_gflops_before", "peak_machine_gflops_after"),
        "{:.1f} before, {:.1f} after the training rows",
    ),
    (
        "  one core (GFLOP/s)",
        ("peak_core_gflops_before", "peak_core_gflops_after"),
        "{:.1f} before, {:.1f} after",
    ),
    ("study network, batch 16: processes × 1 thread", "study_processes", "{}, started together"),
    ("  plain eager, autograd + Adam (img/s)", "study_plain_images_per_s", RATE),
    ("  plain + flush-to-zero (img/s)", "study_plain_ftz_images_per_s", RATE),
    ("  plain + FTZ + fused Adam (img/s)", "study_plain_ftz_fused_images_per_s", RATE),
    ("  today: one model per process (img/s)", "study_today_images_per_s", RATE),
    ("  new: make repro's VAEs stacked (img/s)", "study_new_images_per_s", RATE),
    ("  new / today (target ≥ 3×, aim 4×)", "study_new_vs_today", "{:.2f}×"),
    ("  new / plain", "study_new_vs_plain", "{:.2f}×"),
    ("  new / plain + FTZ + fused Adam", "study_new_vs_plain_ftz_fused", "{:.2f}×"),
    ("  today / plain", "study_today_vs_plain", "{:.2f}×"),
    ("  training FLOPs per image (per layer)", "study_flops_per_image", "{:,}"),
    ("  share of peak: plain", ("study_plain_share_low", "study_plain_share_high"), SHARE),
    ("  share of peak: today", ("study_today_share_low", "study_today_share_high"), SHARE),
    (
        "  share of peak: new (target ≈ 40 %)",
        ("study_new_share_low", "study_new_share_high"),
        SHARE,
    ),
    ("wide setup: our loop (img/s)", "wide_ours_images_per_s", RATE),
    ("  DataLoader loop, plain (img/s)", "wide_plain_images_per_s", RATE),
    ("  DataLoader + flush-to-zero (img/s)", "wide_plain_ftz_images_per_s", RATE),
    ("  DataLoader + FTZ + fused Adam (img/s)", "wide_plain_ftz_fused_images_per_s", RATE),
    ("  ours / plain (target ≥ 2.0×)", "wide_ours_vs_plain", "{:.2f}×"),
    ("  ours / plain + FTZ + fused Adam", "wide_ours_vs_plain_ftz_fused", "{:.2f}×"),
    (
        "  first window's loss, ours / plain",
        ("wide_ours_first_loss", "wide_plain_first_loss"),
        "{:.2f} / {:.2f}",
    ),
    ("  training FLOPs per image (per layer)", "wide_flops_per_image", "{:,}"),
    ("  share of peak (target ≥ 55 %)", ("wide_ours_share_low", "wide_ours_share_high"), SHARE),
    ("  one VAE epoch (s)", "vae_epoch_seconds", "{:.2f}"),
    ("IWAE importance samples/s", "iwae_samples_per_s", RATE),
    (
        "matmuls: train / classifiers / tests / eval",
        (
            "floor_training_tflop",
            "floor_classifiers_tflop",
            "floor_test_passes_tflop",
            "floor_evaluation_tflop",
        ),
        "{:.1f} / {:.1f} / {:.1f} / {:.1f} TFLOP",
    ),
    (
        "  least wall time, all at the peak (s)",
        ("floor_seconds_at_peak_max", "floor_seconds_at_peak_min"),
        "{:.0f} – {:.0f} (bench.floor)",
    ),
    ("full make repro, empty cache (s)", "full_repro_seconds", "{:.1f}"),
    ("  training steps", ("pipeline_training_seconds", "pipeline_training_share"), SPLIT),
    ("  evaluation", ("pipeline_evaluation_seconds", "pipeline_evaluation_share"), SPLIT),
    ("  figures + explorer", ("pipeline_figures_seconds", "pipeline_figures_share"), SPLIT),
    ("  report", ("pipeline_report_seconds", "pipeline_report_share"), SPLIT),
    ("  download", ("pipeline_download_seconds", "pipeline_download_share"), SPLIT),
    (
        "  DVC, processes, loading, test passes",
        ("pipeline_rest_seconds", "pipeline_rest_share"),
        SPLIT,
    ),
    ("  outside training (target ≤ 25 %)", "outside_training_share", "{:.1%}"),
    (
        "  training steps' share of the peak",
        ("pipeline_training_share_of_peak_low", "pipeline_training_share_of_peak_high"),
        SHARE,
    ),
    (
        "  evaluation's share of the peak",
        ("pipeline_evaluation_share_of_peak_low", "pipeline_evaluation_share_of_peak_high"),
        SHARE,
    ),
    ("no-op dvc repro, median of 3 (s, target ≤ 3)", "noop_repro_seconds", "{:.2f}"),
    ("  no-op make repro, median of 3 (s)", "noop_make_repro_seconds", "{:.2f}"),
    ("  stages DVC checks", "noop_stages", "{}"),
    ("add one β: dvc repro (s)", "add_beta_seconds", "{:.1f}"),
    ("  its train + evaluate alone (s)", "one_model_seconds", "{:.1f}"),
    ("  ratio (target ≤ 1.3)", "add_beta_ratio", "{:.2f}"),
    ("4-point β training sweep, dvc queue -j 1 (s)", "sweep_4_j1_seconds", "{:.1f}"),
    ("4-point β training sweep, dvc queue -j 2 (s)", "sweep_4_j2_seconds", "{:.1f}"),
    ("  speedup", "sweep_speedup", "{:.2f}×"),
    ("peak RSS of any process (MB, target ≤ 2048)", "peak_rss_mb", "{:.0f}"),
    *remote.ROWS,
    ("explorer page (MB, target ≤ 3)", "explorer_page_mb", "{:.2f}"),
    ("  models it offers", "explorer_models", "{}"),
    ("  first paint (ms, target ≤ 1000)", "explorer_first_paint_ms", "{:.0f}"),
    ("  one decode, pointer→pixels (ms, target ≤ 5)", "explorer_decode_ms_median", "{:.2f}"),
    ("  slowest of the decodes (ms)", "explorer_decode_ms_max", "{:.2f}"),
)


def footer(result: dict[str, Any]) -> list[str]:
    """Which kernels ran, the peak's range, and the machine."""
    k, env = result["kernels"], result["environment"]
    pinned = ", ".join(f"{name}={k.get(name, '')}" for name in result["pinned"])
    return [
        f"kernels: ATen {k['aten_capability']}; {pinned} (as dvc.yaml pins for every stage)",
        f"matmul peak over the whole machine {result['peak_machine_gflops_min']:.1f}–"
        f"{result['peak_machine_gflops_max']:.1f} GFLOP/s (shares of peak: vs the highest – "
        f"vs the lowest); rates: median of {result['windows']} windows after a warm-up"
        + (", --quick windows" if result.get("quick") else ""),
        f"(torch {env['torch']}, {env['device']} {env['device_name']}, {env['cpu_count']} cores)",
    ]


def table(result: dict[str, Any]) -> str:
    """The rows that were measured, one per line, then the footer."""
    lines = []
    for label, keys, fmt in ROWS:
        keys = keys if isinstance(keys, tuple) else (keys,)
        if all(result.get(k) is not None for k in keys):
            lines.append(f"{label:<46} {fmt.format(*(result[k] for k in keys))}")
    return "\n".join([*lines, *footer(result)])
