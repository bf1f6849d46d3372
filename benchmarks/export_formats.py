"""Every export format of a model directory, checked against Keras: size, agreement, accuracy, ms per face.

Runs ``python -m fer export`` once per format into a temporary folder (each in its own process,
as a user would) and gathers the parity figures each run writes beside its file.

    python benchmarks/export_formats.py --data fer2013.csv.gz [--model models/default]
"""

import json
import pathlib
import subprocess
import sys
import tempfile
import time

import bench_common

NAME = "export_formats"
FORMATS = {"litert": "model.tflite", "litert-int8": "model-int8.tflite", "savedmodel": "savedmodel/1",
           "onnx": "model.onnx"}


def export(model, fmt, output, data, representative):
    """One ``python -m fer export`` run; its parity figures (with its exit status and wall time)."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "fer", "export", "--model", str(model), "--format", fmt, "--output", str(output),
               "--data", str(data), "--representative", str(representative)]
    result = subprocess.run(command, cwd=bench_common.ROOT, capture_output=True, text=True, timeout=1800)
    report = pathlib.Path(f"{output}.parity.json")
    if not report.is_file():
        raise SystemExit(f"export_formats.py: {fmt} export failed:\n{result.stderr[-3000:]}")
    figures = json.loads(report.read_text())
    figures.update(path=pathlib.Path(output).name, exit_status=result.returncode,
                   command_s=round(time.perf_counter() - started, 1))
    print(f"{fmt}: {figures['bytes'] / 1e6:.2f} MB, agreement {figures['top_emotion_agreement']:.4f}, "
          f"{figures['ms_per_face']:.2f} ms/face", file=sys.stderr)
    return figures


def main(argv=None):
    """Export to every format and write the results JSON."""
    parser = bench_common.base_parser(NAME, __doc__.split("\n\n")[0])
    bench_common.add_model_option(parser)
    parser.add_argument("--data", required=True, help="FER-2013 CSV: validation rows check, training rows "
                        "calibrate int8")
    parser.add_argument("--representative", type=int, default=500, help="training faces for int8's ranges")
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), choices=list(FORMATS))
    args = parser.parse_args(argv)
    machine = bench_common.machine_info()
    with tempfile.TemporaryDirectory(prefix="fer-export-") as folder:
        runs = [{"format": fmt, **export(args.model, fmt, pathlib.Path(folder) / FORMATS[fmt], args.data,
                                         args.representative)} for fmt in args.formats]
    settings = {"model": bench_common.shown_path(args.model), "data": bench_common.shown_path(args.data),
                "representative_faces": args.representative}
    path = bench_common.write_results(args.output, NAME, settings, runs, machine)
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
