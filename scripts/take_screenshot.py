"""Screenshot the live demo page for the README: ``python scripts/take_screenshot.py``.

Streams a short clip of real FER-2013 faces (``tests/clips.py``) through the real app and server,
opens the page in Debian's chromium through Playwright, waits for the annotated stream and
the list of faces, and saves the whole page as ``docs/screenshot.png``.
"""

import argparse
import logging
import pathlib
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere without installing the package
sys.path.insert(0, str(ROOT / "tests"))  # the tests' clip maker (clips.py)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCENE_EMOTIONS = ("happy", "surprise", "angry", "neutral")

log = logging.getLogger("take_screenshot")


def build_parser():
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", default=str(ROOT / "models" / "default"), help="model directory")
    parser.add_argument("--output", default=str(ROOT / "docs" / "screenshot.png"), help="PNG to write")
    parser.add_argument("--width", type=int, default=1280, help="browser window width")
    parser.add_argument("--height", type=int, default=900, help="browser window height")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds of streaming before the shot")
    return parser


def write_scene_clip(path):
    """A clip of four real faces, one per emotion in :data:`SCENE_EMOTIONS`."""
    from clips import face_emotion, load_faces, write_clip

    faces = load_faces()
    chosen = [next(face for name, face in faces if face_emotion(name) == emotion) for emotion in SCENE_EMOTIONS]
    write_clip(path, chosen, frames=60, fps=10.0)


def shoot(base_url, args):
    """Open the page in chromium, wait for the faces, and save the screenshot."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        page.set_default_timeout(60_000)
        page.goto(base_url)
        page.wait_for_function("() => document.getElementById('stream').naturalWidth > 0")
        page.wait_for_function(f"() => document.querySelectorAll('#faces li.face').length === {len(SCENE_EMOTIONS)}")
        time.sleep(args.settle)
        pathlib.Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=args.output, full_page=True)
        browser.close()


def main(argv=None):
    """Serve a clip, screenshot the page, stop."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = build_parser().parse_args(argv)
    from fer.live.web import create_app
    from fer.commands.serve import make_server

    with tempfile.TemporaryDirectory() as scratch:
        clip = pathlib.Path(scratch) / "faces.avi"
        write_scene_clip(clip)
        app = create_app(model_dir=args.model, source=str(clip))
        server = make_server(app, "127.0.0.1", 0, threads=8)
        threading.Thread(target=server.run, daemon=True).start()
        try:
            shoot(f"http://127.0.0.1:{server.effective_port}/", args)
        finally:
            app.extensions["fer"]["broadcaster"].stop()
            server.close()
    log.info("wrote %s", args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
